// Admin console, read-only tabs: the effect job queue's counts and the moderation log.
import { api } from "../api.js";
import { h, formatDate } from "../dom.js";
import { loading, pagedList, problem } from "../ui.js";
import { definitions, fill, whileBusy } from "./widgets.js";

const JOB_STATES = [["queued", "Queued"], ["running", "Running"], ["succeeded", "Succeeded"], ["failed", "Failed"]];

/** "Effect jobs": how many jobs are in each state, across every user, read again on demand. */
export function jobCountsTab(container) {
  const result = h("div", { "aria-live": "polite" }, loading());
  const button = h("button", { type: "button", class: "btn", onclick: () => whileBusy(button, refresh) }, "Refresh counts");

  async function refresh() {
    try {
      const counts = await api("/v1/admin/effect-jobs/counts");
      fill(result,
        definitions(JOB_STATES.map(([key, label]) => [label, new Intl.NumberFormat().format(counts[key] ?? 0)]), "job-counts"),
        h("p", { class: "muted small" }, `As of ${formatDate(new Date().toISOString())}`));
    } catch (error) {
      fill(result, problem(error));
    }
  }

  container.append(result, h("div", { class: "row" }, button));
  refresh();
}

/** "Moderation log": every resolution, removal, suspension, role change, grant and promo change, newest first. */
export function moderationLogTab(container) {
  const list = pagedList({
    label: "Moderation log",
    empty: "Nothing has been logged yet.",
    fetchPage: async (cursor) => {
      const page = await api("/v1/admin/moderation-log", { query: { cursor: cursor ?? undefined, limit: 20 } });
      return { items: page.entries, nextCursor: page.next_cursor, hasMore: page.has_more };
    },
    renderItem: logEntry,
  });
  const refresh = h("button", { type: "button", class: "btn btn-ghost", onclick: () => list.reload() }, "Refresh log");
  container.append(h("div", { class: "row" }, refresh), list);
  return () => list.destroy?.();
}

function logEntry(entry) {
  return h("article", { class: "log-entry stack-tight" },
    h("p", {},
      h("strong", {}, entry.action.replace(/_/g, " ")),
      " · ",
      entry.actor ? h("a", { href: `#/users/${entry.actor.id}` }, `@${entry.actor.username}`) : "the operator (command line)",
      " · ",
      h("time", { datetime: entry.created_at }, formatDate(entry.created_at))),
    h("p", { class: "muted" }, `${entry.target_type} ${entry.target_id}`),
    entry.note ? h("p", {}, entry.note) : null);
}
