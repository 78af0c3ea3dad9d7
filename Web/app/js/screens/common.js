// Pieces several of the social screens share.
import { followButton } from "../actions.js";
import { h } from "../dom.js";
import { userLink } from "../video-card.js";

/** A screen's root with its `<h1>` (rendered first, so the router can move focus to it at once). */
export function screen(main, title, { narrow = false, className = "" } = {}) {
  const heading = h("h1", { tabindex: "-1" }, title);
  const root = h("section", { class: `screen ${narrow ? "narrow" : ""} ${className}`.trim() }, heading);
  main.append(root);
  return { root, heading };
}

/** A row of a user list: who, "Follows you", and a Follow toggle when the row carries viewer state. */
export function userRow(user, { extra } = {}) {
  const follow = "is_following" in user ? followButton(user, user.is_following) : null;
  return h("div", { class: "card user-row", dataset: { userId: user.id } },
    h("div", { class: "row" },
      userLink(user),
      user.follows_you && h("span", { class: "badge badge-neutral" }, "Follows you")),
    h("div", { class: "row" }, extra, follow));
}

/** Maps a cursor page `{<key>: [...], next_cursor, has_more}` to pagedList's `{ items, nextCursor, hasMore }`. */
export function page(answer, key) {
  return { items: answer[key] ?? [], nextCursor: answer.next_cursor, hasMore: answer.has_more };
}

/** Tabs as buttons in a tablist; `onSelect(key)` shows the panel. Arrow keys move between tabs. */
export function tabs(label, items, selected, onSelect) {
  const prefix = label.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const idOf = (key) => `${prefix}-tab-${key}`;
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": label });
  const buttons = items.map(([key, text]) => h("button", {
    type: "button", role: "tab", id: idOf(key), "aria-controls": `${prefix}-panel`,
    "aria-selected": String(key === selected), tabindex: key === selected ? "0" : "-1",
    onclick: () => select(key),
  }, text));
  function select(key) {
    for (const button of buttons) {
      const on = button.id === idOf(key);
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
    }
    panel.setAttribute("aria-labelledby", idOf(key));
    onSelect(key);
  }
  list.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = buttons[(index + 1) % buttons.length];
    if (event.key === "ArrowLeft") next = buttons[(index - 1 + buttons.length) % buttons.length];
    if (next) {
      event.preventDefault();
      next.focus();
      next.click();
    }
  });
  list.append(...buttons);
  const panel = h("div", { id: `${prefix}-panel`, role: "tabpanel", "aria-labelledby": idOf(selected) });
  list.select = select;
  return { list, panel };
}

/** Replaces one query parameter of the current fragment without a re-render (a deep link to a tab). */
export function replaceQuery(name, value) {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?", 2);
  const query = new URLSearchParams(search);
  if (value === null || value === undefined || value === "") query.delete(name);
  else query.set(name, value);
  const text = query.toString();
  history.replaceState(history.state, "", `#${path}${text ? `?${text}` : ""}`);
}
