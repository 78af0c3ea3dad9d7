// Search for videos and users: `#/search?q=cat&tab=users`.
import { api } from "../api.js";
import { h } from "../dom.js";
import { navigate } from "../router.js";
import { pagedList, videoCard } from "../ui.js";
import { page, replaceQuery, screen, tabs, userRow } from "./common.js";

const tabNames = [["videos", "Videos"], ["users", "Users"]];

function renderSearch(main, _params, query) {
  const { root } = screen(main, "Search");
  const q = (query.get("q") ?? "").trim();
  let tab = query.get("tab") === "users" ? "users" : "videos";

  const input = h("input", { type: "search", name: "q", id: "search-q", value: q, maxlength: 100, autocomplete: "off", class: "input" });
  const form = h("form", { role: "search", class: "row search-form" },
    h("label", { for: "search-q", class: "visually-hidden" }, "Search videos and users"),
    input,
    h("button", { type: "submit", class: "btn btn-primary" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const params = new URLSearchParams();
    if (text) params.set("q", text);
    if (tab !== "videos") params.set("tab", tab);
    navigate(`#/search${params.toString() ? `?${params}` : ""}`);
  });
  root.append(form);
  if (!q) {
    root.append(h("p", { class: "empty" }, "Type a word to find videos by title or description, or people by name."));
    return undefined;
  }

  let list = null;
  const { list: tabList, panel } = tabs("Search results", tabNames, tab, (key) => {
    tab = key;
    replaceQuery("tab", key === "videos" ? null : key);
    show();
  });
  function show() {
    list?.destroy();
    list = tab === "videos"
      ? pagedList({
        label: `Videos matching ${q}`,
        itemsClass: "grid",
        empty: `No videos match “${q}”.`,
        fetchPage: async (cursor) => page(await api("/v1/search/videos", { query: { q, cursor, limit: 12 } }), "videos"),
        renderItem: (video) => videoCard(video, { headingLevel: "h2" }),
      })
      : pagedList({
        label: `People matching ${q}`,
        empty: `No people match “${q}”.`,
        fetchPage: async (cursor) => page(await api("/v1/search/users", { query: { q, cursor, limit: 20 } }), "users"),
        renderItem: (user) => userRow(user),
      });
    panel.replaceChildren(list);
  }
  root.append(tabList, panel);
  show();
  return () => list?.destroy();
}

export const routes = [{ path: "/search", title: "Search", auth: false, render: renderSearch }];
