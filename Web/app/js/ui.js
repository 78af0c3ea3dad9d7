// Shared building blocks of every screen: problems, loading, toasts, paged lists, confirmation, the video card.
import { h } from "./dom.js";

export { videoCard } from "./video-card.js";

/** An alert showing the API's `detail` and each `errors[]` entry (any Error works too). */
export function problem(err) {
  const detail = err?.detail ?? err?.message ?? "Something went wrong";
  const errors = Array.isArray(err?.errors) ? err.errors : [];
  return h("div", { class: "problem", role: "alert" },
    h("p", {}, detail),
    errors.length > 0 && h("ul", {}, errors.map((e) => h("li", {}, e.field ? `${e.field}: ${e.message}` : e.message))));
}

/** A polite status line while something loads. */
export function loading(label = "Loading…") {
  return h("p", { class: "loading muted", role: "status" }, label);
}

/** A short message in the page's live region; `kind` is "info", "success" or "error". */
export function toast(message, { kind = "info" } = {}) {
  const region = document.getElementById("toasts");
  if (!region) return;
  const item = h("div", { class: `toast toast-${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 5000);
}

/**
 * A list that pages by cursor: `fetchPage(cursor)` → `{ items, nextCursor, hasMore }` (cursor null first).
 * More pages load when the end of the list scrolls into view, or with the "Load more" button (keyboard users).
 * The element has `prepend(item)` (an item that arrived live) and `reload()`.
 * Options: `itemsClass` (the items' container, e.g. "grid"), `label` (its accessible name).
 */
export function pagedList({ fetchPage, renderItem, empty = "Nothing here yet.", itemsClass = "stack", label } = {}) {
  const items = h("div", { class: `paged-items ${itemsClass}`, role: "list", "aria-label": label, "aria-busy": "false" });
  const status = h("div", { class: "paged-status" });
  const more = h("button", { type: "button", class: "btn btn-ghost load-more", hidden: true }, "Load more");
  const sentinel = h("div", { class: "paged-sentinel", "aria-hidden": "true" });
  const root = h("div", { class: "paged stack" }, items, status, more, sentinel);

  let cursor = null;
  let hasMore = true;
  let busy = false;
  let failed = false; // after an error only the button retries: scrolling must not loop on a failing request
  let count = 0;
  let epoch = 0; // reload() starts a new epoch; answers of an older one are dropped

  const wrap = (element) => h("div", { role: "listitem", class: "paged-item" }, element);

  async function loadNext({ retry = false } = {}) {
    if (busy || !hasMore || (failed && !retry)) return;
    busy = true;
    failed = false;
    const mine = epoch;
    // A keyboard user who pressed the button keeps their place: the button stays (aria-disabled, not disabled,
    // which would drop focus) and, when it goes away at the end, focus moves to the first new item.
    const fromButton = document.activeElement === more;
    items.setAttribute("aria-busy", "true");
    if (fromButton) more.setAttribute("aria-disabled", "true");
    else more.hidden = true;
    status.replaceChildren(loading(count === 0 ? "Loading…" : "Loading more…"));
    try {
      const page = await fetchPage(cursor);
      if (mine !== epoch) return;
      let first = null;
      for (const item of page.items ?? []) {
        const element = renderItem(item);
        if (element) {
          const row = wrap(element);
          first ??= row;
          items.append(row);
          count += 1;
        }
      }
      cursor = page.nextCursor ?? null;
      hasMore = Boolean(page.hasMore && cursor);
      status.replaceChildren(count === 0 && !hasMore ? emptyState(empty) : "");
      more.textContent = "Load more";
      more.hidden = !hasMore;
      if (fromButton && !hasMore && first) {
        first.tabIndex = -1;
        first.focus();
      }
    } catch (error) {
      if (mine !== epoch) return;
      failed = true;
      status.replaceChildren(problem(error));
      more.textContent = "Try again";
      more.hidden = false;
    } finally {
      if (mine === epoch) {
        busy = false;
        items.setAttribute("aria-busy", "false");
        more.removeAttribute("aria-disabled");
      }
    }
    // A short page leaves the end of the list in view: keep filling the screen.
    if (mine === epoch && hasMore && !failed && isInView(sentinel)) loadNext();
  }

  more.addEventListener("click", () => loadNext({ retry: true }));

  const observer = "IntersectionObserver" in window
    ? new IntersectionObserver((entries) => {
      if (!root.isConnected) { observer.disconnect(); return; }
      if (entries.some((e) => e.isIntersecting)) loadNext();
    }, { rootMargin: "400px 0px" })
    : null;
  observer?.observe(sentinel);

  root.prepend = (item) => {
    const element = renderItem(item);
    if (!element) return;
    if (count === 0) status.replaceChildren();
    count += 1;
    items.prepend(wrap(element));
  };
  root.reload = () => {
    epoch += 1;
    busy = false;
    failed = false;
    cursor = null;
    hasMore = true;
    count = 0;
    items.replaceChildren();
    loadNext();
  };
  root.destroy = () => observer?.disconnect();
  /** How many items are shown. */
  Object.defineProperty(root, "count", { get: () => count });

  queueMicrotask(loadNext);
  return root;
}

function isInView(element) {
  if (!element.isConnected) return false;
  const rect = element.getBoundingClientRect();
  return rect.top < window.innerHeight + 400;
}

function emptyState(content) {
  return content instanceof Node ? content : h("p", { class: "empty" }, content);
}

/** Asks a yes/no question in a modal `<dialog>`; resolves true for the confirming button. */
export function confirmDialog(message, { confirmLabel = "Confirm", cancelLabel = "Cancel", danger = false } = {}) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog card", "aria-label": confirmLabel },
      h("form", { method: "dialog", class: "stack" },
        h("p", {}, message),
        h("div", { class: "row row-end" },
          h("button", { type: "submit", value: "cancel", class: "btn btn-ghost" }, cancelLabel),
          h("button", { type: "submit", value: "confirm", class: danger ? "btn btn-danger" : "btn btn-primary" }, confirmLabel))));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A modal `<dialog>` holding a form: `build(form, close)` fills it; resolves with what `close(value)` was given
 * (undefined when dismissed with Escape or Cancel).
 */
export function formDialog(title, build) {
  return new Promise((resolve) => {
    let result;
    const heading = h("h2", { id: `dialog-${crypto.randomUUID()}` }, title);
    const form = h("form", { class: "stack", novalidate: true });
    const dialog = h("dialog", { class: "dialog card", "aria-labelledby": heading.id }, heading, form);
    const close = (value) => {
      result = value;
      dialog.close();
    };
    build(form, close);
    dialog.addEventListener("close", () => {
      resolve(result);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A labelled form field: `<div class="field"><label for>Label</label><control/>hint<error line/></div>`; the error
 * line (filled by showFormErrors) describes the control.
 */
export function field(label, control, { hint } = {}) {
  if (!control.id) control.id = `f-${control.name || "field"}-${crypto.randomUUID().slice(0, 8)}`;
  const error = h("span", { class: "field-error", id: `${control.id}-error` });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint && h("span", { class: "muted small" }, hint),
    error);
}

/**
 * Shows an ApiError on a form: each `errors[]` entry under its field (by `name`), the rest in `slot`.
 * Returns the fields it could not place.
 */
export function showFormErrors(form, slot, error) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const unplaced = [];
  for (const entry of error?.errors ?? []) {
    const control = form.elements.namedItem(entry.field);
    const line = control && document.getElementById(`${control.id}-error`);
    if (line) {
      line.textContent = entry.message;
      control.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(entry);
    }
  }
  slot.replaceChildren(error ? problem({ detail: error.detail ?? error.message, errors: unplaced }) : "");
  const firstInvalid = form.querySelector("[aria-invalid='true']");
  if (firstInvalid) firstInvalid.focus();
  return unplaced;
}

/**
 * A disclosure button whose panel of buttons and links opens below it; Escape, an outside click and tabbing away
 * close it. (A disclosure, not an ARIA menu: its items are ordinary buttons and links, reached with Tab.)
 * `items` is an array of elements or `(close) => elements`, built at each opening.
 */
export function menuButton(label, items, { buttonClass = "btn btn-ghost", buttonLabel } = {}) {
  const menu = h("div", { class: "menu card", id: `menu-${crypto.randomUUID().slice(0, 8)}`, hidden: true });
  const button = h("button", {
    type: "button", class: buttonClass, "aria-expanded": "false", "aria-controls": menu.id,
    "aria-label": buttonLabel,
  }, label);
  const root = h("div", { class: "menu-wrap" }, button, menu);

  const outside = (event) => { if (!root.contains(event.target)) close(); };
  const onKey = (event) => {
    if (event.key === "Escape") {
      close();
      button.focus();
    }
  };
  // An item's own action closes the panel and puts focus back on the button, so that a dialog the item opens
  // returns focus there when it closes (the item itself is gone by then).
  const closeFromItem = () => {
    close();
    button.focus();
  };
  function open() {
    menu.replaceChildren(...(typeof items === "function" ? items(closeFromItem) : items));
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("click", outside, true);
    root.addEventListener("keydown", onKey);
    menu.querySelector("button, a")?.focus();
  }
  function close() {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("click", outside, true);
    root.removeEventListener("keydown", onKey);
  }
  button.addEventListener("click", () => (menu.hidden ? open() : close()));
  // Tabbing out of the menu closes it, as a click outside does.
  root.addEventListener("focusout", (event) => {
    if (!menu.hidden && event.relatedTarget && !root.contains(event.relatedTarget)) close();
  });
  root.close = close;
  return root;
}
