// The signed-in user's own collections: bookmarks, blocked users, and the reports they sent.
import { api } from "../api.js";
import { formatDate, h } from "../dom.js";
import { pagedList, toast, videoCard } from "../ui.js";
import { reportCategories } from "../actions.js";
import { page, screen, userRow } from "./common.js";

function renderBookmarks(main) {
  const { root } = screen(main, "Bookmarks");
  const list = pagedList({
    label: "Bookmarked videos",
    itemsClass: "grid",
    empty: h("div", { class: "empty stack-sm" },
      h("p", {}, "No bookmarks yet."),
      h("p", {}, "Use “Bookmark” on a video to keep it here. ", h("a", { href: "#/" }, "Browse the feed"))),
    fetchPage: async (cursor) => page(await api("/v1/bookmarks", { query: { cursor, limit: 12 } }), "videos"),
    // Unbookmarking here takes the card away: this list is the bookmarks.
    renderItem: (video) => videoCard(video, { removeOnUnbookmark: true, headingLevel: "h2" }),
  });
  root.append(list);
  return () => list.destroy();
}

function renderBlocked(main) {
  const { root } = screen(main, "Blocked users");
  root.append(h("p", { class: "muted" },
    "You and the people you block cannot see each other's profiles or videos. Unblocking does not restore follows."));
  const list = pagedList({
    label: "Blocked users",
    empty: "You have not blocked anyone.",
    fetchPage: async (cursor) => page(await api("/v1/blocks", { query: { cursor, limit: 20 } }), "users"),
    renderItem: (user) => {
      const unblock = h("button", { type: "button", class: "btn", "aria-label": `Unblock ${user.display_name || user.username}` }, "Unblock");
      const row = userRow(user, { extra: unblock });
      unblock.addEventListener("click", async () => {
        unblock.disabled = true;
        try {
          await api(`/v1/blocks/${user.id}`, { method: "DELETE" });
          toast(`Unblocked ${user.display_name || user.username}.`, { kind: "success" });
          (row.closest(".paged-item") ?? row).remove();
        } catch (error) {
          toast(error.detail ?? "Could not unblock", { kind: "error" });
          unblock.disabled = false;
        }
      });
      return row;
    },
  });
  root.append(list);
  return () => list.destroy();
}

const categoryLabel = Object.fromEntries(reportCategories);
const resolutionLabel = {
  no_action: "No action taken",
  video_removed: "Video removed",
  user_suspended: "User suspended",
};

function reportCard(report) {
  const target = report.target_type === "video"
    ? h("a", { href: `#/videos/${report.target_id}` }, "Video")
    : h("a", { href: `#/users/${report.target_id}` }, "User");
  const open = report.status === "open";
  return h("article", { class: "card stack-sm", "aria-label": `Report of ${formatDate(report.created_at)}` },
    h("div", { class: "row row-between" },
      h("p", {}, target, ` · ${categoryLabel[report.category] ?? report.category}`),
      h("span", { class: open ? "badge badge-neutral" : "badge badge-success" }, open ? "Open" : "Resolved")),
    report.comment && h("p", {}, report.comment),
    h("p", { class: "muted small" }, `Sent ${formatDate(report.created_at)}`,
      !open && report.resolved_at ? ` · resolved ${formatDate(report.resolved_at)}` : ""),
    !open && h("p", {}, h("strong", {}, "Resolution: "), resolutionLabel[report.resolution] ?? report.resolution ?? "—"));
}

function renderReports(main) {
  const { root } = screen(main, "My reports");
  const list = pagedList({
    label: "Reports",
    empty: "You have not reported anything.",
    fetchPage: async (cursor) => page(await api("/v1/reports", { query: { cursor, limit: 20 } }), "reports"),
    renderItem: reportCard,
  });
  root.append(list);
  return () => list.destroy();
}

export const routes = [
  { path: "/bookmarks", title: "Bookmarks", auth: true, render: renderBookmarks },
  { path: "/blocked", title: "Blocked users", auth: true, render: renderBlocked },
  { path: "/reports", title: "My reports", auth: true, render: renderReports },
];
