// Admin console, "Users" tab: find accounts (email or username prefix, role, suspended), suspend with a reason or
// unsuspend, and, for admins, change a role. Each row's controls name their user, so they stay unique on the page.
import { api } from "../api.js";
import { h, formatDate } from "../dom.js";
import { session } from "../session.js";
import { field, formDialog, loading, pagedList, problem, toast } from "../ui.js";
import { fill, select, whileBusy } from "./widgets.js";

const ROLES = [["user", "User"], ["moderator", "Moderator"], ["admin", "Admin"]];

export function usersTab(container) {
  const q = h("input", { name: "q", type: "search", autocomplete: "off", spellcheck: "false", maxlength: "254" });
  const role = select({ name: "role" }, [["", "Any role"], ...ROLES], "");
  const suspended = select({ name: "suspended" }, [["", "Any"], ["true", "Suspended"], ["false", "Not suspended"]], "");
  const listSlot = h("div");
  let list = null;

  const search = () => {
    list?.destroy?.();
    const filters = { q: q.value.trim() || undefined, role: role.value || undefined, suspended: suspended.value || undefined };
    list = pagedList({
      label: "Accounts",
      empty: "No account matches.",
      fetchPage: async (cursor) => {
        const page = await api("/v1/admin/users", { query: { ...filters, cursor: cursor ?? undefined, limit: 20 } });
        return { items: page.users, nextCursor: page.next_cursor, hasMore: page.has_more };
      },
      renderItem: accountRow,
    });
    fill(listSlot, list);
  };

  container.append(
    h("form", {
      class: "row filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        search();
      },
    },
    field("Email or username", q),
    field("Role", role),
    field("Suspended", suspended),
    h("button", { type: "submit", class: "btn" }, "Search")),
    listSlot);
  search();
  return () => list?.destroy?.();
}

/** One account; its controls re-render the row from the server's answer. */
function accountRow(initial) {
  let account = { ...initial };
  const row = h("article", { class: "card account stack", "aria-label": `@${account.username}` });
  const message = h("div", { "aria-live": "polite" });

  const render = () => {
    const name = `@${account.username}`;
    const isSelf = account.id === session.user?.id;
    const suspendButton = h("button", {
      type: "button", class: account.suspended ? "btn btn-small" : "btn btn-small btn-danger", "aria-label": `${account.suspended ? "Unsuspend" : "Suspend"} ${name}`,
      onclick: () => whileBusy(suspendButton, () => (account.suspended ? unsuspend() : suspend())),
    }, account.suspended ? "Unsuspend" : "Suspend");

    let roleControls = null;
    if (session.isAdmin()) {
      const roleSelect = select({ name: "role", class: "input", "aria-label": `Role of ${name}` }, ROLES, account.role);
      const save = h("button", {
        type: "button", class: "btn btn-small", "aria-label": `Save ${name}'s role`,
        onclick: () => whileBusy(save, () => changeRole(roleSelect.value)),
      }, "Save role");
      roleControls = h("div", { class: "row" }, roleSelect, save);
    }

    fill(row,
      h("div", { class: "row account-head" },
        h("h3", {}, h("a", { href: `#/users/${account.id}` }, name)),
        h("span", { class: "badge badge-neutral" }, account.role),
        account.suspended ? h("span", { class: "badge" }, "Suspended") : null),
      h("p", { class: "muted" }, account.display_name ? `${account.display_name} · ` : "", account.email),
      account.suspended && account.suspended_at ? h("p", { class: "muted" }, `Suspended since ${formatDate(account.suspended_at)}`) : null,
      isSelf ? h("p", { class: "muted" }, "This is you.") : h("div", { class: "row account-actions" }, suspendButton, roleControls),
      message);
  };

  async function suspend() {
    const reason = await formDialog(`Suspend @${account.username}`, (form, close) => {
      const input = h("textarea", { name: "reason", rows: "3", maxlength: "500", required: true });
      const error = h("div");
      form.append(
        h("p", {}, "Their videos and profile are hidden and their sessions end until you unsuspend them."),
        field("Reason", input),
        error,
        h("div", { class: "row row-end" },
          h("button", { type: "button", class: "btn btn-ghost", onclick: () => close() }, "Cancel"),
          h("button", { type: "submit", class: "btn btn-danger" }, "Suspend account")));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) {
          fill(error, problem({ detail: "Give a reason: it is kept with the suspension." }));
          input.focus();
          return;
        }
        close(text);
      });
    });
    if (!reason) return;
    await run(() => api(`/v1/admin/users/${account.id}/suspend`, { method: "POST", body: { reason } }), "suspended");
  }

  async function unsuspend() {
    await run(() => api(`/v1/admin/users/${account.id}/unsuspend`, { method: "POST" }), "unsuspended");
  }

  async function run(request, verb) {
    fill(message, loading());
    try {
      const answer = await request();
      account = { ...account, suspended: answer.suspended, suspended_at: answer.suspended_at };
      fill(message);
      render();
      toast(`@${account.username} ${verb}`, { kind: "success" });
      row.querySelector(".account-actions button")?.focus();
    } catch (error) {
      fill(message, problem(error)); // e.g. 403: a moderator may suspend only role user
    }
  }

  async function changeRole(newRole) {
    fill(message, loading("Saving role…"));
    try {
      const user = await api(`/v1/admin/users/${account.id}/role`, { method: "PUT", body: { role: newRole } });
      account = { ...account, role: user.role };
      render();
      fill(message, h("p", { class: "success", role: "status" }, `@${account.username} is now ${account.role}.`));
      row.querySelector("select")?.focus();
    } catch (error) {
      fill(message, problem(error)); // 409 last_admin: the last admin cannot be demoted
    }
  }

  render();
  return row;
}
