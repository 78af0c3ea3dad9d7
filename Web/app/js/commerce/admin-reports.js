// Admin console, "Reports" tab: the moderators' queue (oldest first) and resolving a report with an action.
// Resolving acts on the target, so every open report on that target leaves the queue at once.
import { api } from "../api.js";
import { h, formatDate, formatRelative } from "../dom.js";
import { field, loading, pagedList, problem, toast } from "../ui.js";
import { fill, select, whileBusy } from "./widgets.js";

const CATEGORY_TEXT = {
  spam: "Spam", harassment: "Harassment", sexual: "Sexual content", violence: "Violence", illegal: "Illegal", other: "Other",
};
const RESOLUTION_TEXT = { no_action: "No action", video_removed: "Video removed", user_suspended: "User suspended" };

export function reportsTab(container) {
  const status = select({ name: "status" }, [["open", "Open"], ["resolved", "Resolved"]], "open");
  const target = select({ name: "target_type" }, [["", "Videos and users"], ["video", "Videos"], ["user", "Users"]], "");
  const listSlot = h("div");
  let list = null;

  const showList = () => {
    list?.destroy?.();
    const open = status.value === "open";
    list = pagedList({
      label: open ? "Open reports" : "Resolved reports",
      empty: open ? "No open reports: the queue is clear." : "No resolved reports.",
      fetchPage: async (cursor) => {
        const page = await api("/v1/admin/reports", {
          query: { status: status.value, target_type: target.value || undefined, cursor: cursor ?? undefined, limit: 20 },
        });
        return { items: page.reports, nextCursor: page.next_cursor, hasMore: page.has_more };
      },
      renderItem: (report) => reportCard(report, { onResolved: removeTarget }),
    });
    fill(listSlot, list);
  };

  // The server resolved every open report on this target: they all leave the open queue.
  function removeTarget(report) {
    if (status.value !== "open") return;
    for (const card of listSlot.querySelectorAll(`[data-target="${report.target_type}:${report.target_id}"]`)) {
      (card.closest("[role=listitem]") ?? card).remove();
    }
    if (!listSlot.querySelector(".report")) showList(); // the page is empty: load what comes next (or the empty state)
    // The focused button left with its card: keyboard users continue at the next report (or the filters).
    (listSlot.querySelector(".report select") ?? status).focus();
  }

  status.addEventListener("change", showList);
  target.addEventListener("change", showList);
  container.append(
    h("div", { class: "row filters" }, field("Status", status), field("Target", target)),
    listSlot);
  showList();
  return () => list?.destroy?.();
}

function reportCard(report, { onResolved }) {
  const reporter = report.reporter;
  const targetLink = report.target_type === "video"
    ? h("a", { href: `#/videos/${report.target_id}` }, "the reported video")
    : h("a", { href: `#/users/${report.target_id}` }, "the reported user");
  const count = report.report_count_for_target ?? 0;
  return h("article", {
    class: "card report stack",
    dataset: { target: `${report.target_type}:${report.target_id}` },
    "aria-label": `Report by @${reporter?.username ?? "unknown"}: ${CATEGORY_TEXT[report.category] ?? report.category} (${report.target_type})`,
  },
  h("div", { class: "row report-head" },
    h("span", { class: "badge badge-neutral" }, CATEGORY_TEXT[report.category] ?? report.category),
    h("span", { class: "muted" }, report.target_type === "video" ? "Video" : "User"),
    h("span", { class: "muted" }, formatRelative(report.created_at))),
  h("p", {}, "Open ", targetLink, " · reported by ",
    reporter ? h("a", { href: `#/users/${reporter.id}` }, `@${reporter.username}`) : "unknown"),
  report.comment ? h("blockquote", { class: "report-comment" }, report.comment) : h("p", { class: "muted" }, "No comment."),
  report.status === "open"
    ? h("p", { class: "muted" }, count === 1 ? "1 open report on this target" : `${count} open reports on this target`)
    : null,
  report.status === "open"
    ? resolveForm(report, onResolved)
    : h("p", {}, `Resolved: ${RESOLUTION_TEXT[report.resolution] ?? report.resolution} · ${formatDate(report.resolved_at)}`),
  report.status !== "open" && report.resolution === "video_removed" ? restoreForm(report) : null);
}

// Undoes a removal (POST /v1/admin/videos/{id}/restore): the video, its likes and bookmarks come back.
function restoreForm(report) {
  const message = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "button", class: "btn" }, "Restore the video");
  button.addEventListener("click", () => whileBusy(button, async () => {
    fill(message, loading("Restoring…"));
    try {
      await api(`/v1/admin/videos/${report.target_id}/restore`, { method: "POST" });
      button.remove();
      fill(message, h("p", { role: "status" }, "Video restored: it is visible again."));
    } catch (error) {
      fill(message, problem(error));
    }
  }));
  return h("div", { class: "stack" }, h("div", { class: "row" }, button), message);
}

function resolveForm(report, onResolved) {
  const actions = [["no_action", "No action"]];
  if (report.target_type === "video") actions.push(["remove_video", "Remove the video"], ["suspend_user", "Suspend the video's owner"]);
  else actions.push(["suspend_user", "Suspend the user"]);
  const action = select({ name: "action" }, actions, "no_action");
  const note = h("textarea", { name: "note", rows: "2", maxlength: "1000" });
  const message = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Resolve");
  return h("form", {
    class: "stack resolve-form",
    onsubmit: (event) => {
      event.preventDefault();
      whileBusy(button, async () => {
        fill(message, loading("Resolving…"));
        try {
          const resolved = await api(`/v1/admin/reports/${report.id}/resolve`, {
            method: "POST", body: { action: action.value, note: note.value.trim() || undefined },
          });
          toast(`Report resolved: ${RESOLUTION_TEXT[resolved.resolution] ?? resolved.resolution}`, { kind: "success" });
          onResolved(report);
        } catch (error) {
          fill(message, problem(error));
        }
      });
    },
  },
  h("div", { class: "row" }, field("Action", action), field("Note", note)),
  h("div", { class: "row" }, button),
  message);
}
