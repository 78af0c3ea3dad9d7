// The console for moderators and admins. Moderators see the reports queue, accounts, job counts and the log;
// the money tabs (ledger audit, credit grants, promo codes) are for admins only and are not shown to others.
// The server checks every role itself: a 403 it sends is shown as its detail, never trusted away by the client.
import { h } from "../dom.js";
import { session } from "../session.js";
import { reportsTab } from "../commerce/admin-reports.js";
import { usersTab } from "../commerce/admin-users.js";
import { auditTab, grantTab } from "../commerce/admin-ledger.js";
import { promosTab } from "../commerce/admin-promos.js";
import { jobCountsTab, moderationLogTab } from "../commerce/admin-activity.js";
import { screen, tabs } from "../commerce/widgets.js";

export const routes = [{ path: "/admin", title: "Admin", auth: true, render: renderAdmin }];

const TABS = [
  { id: "reports", label: "Reports", render: reportsTab },
  { id: "users", label: "Users", render: usersTab },
  { id: "audit", label: "Ledger audit", render: auditTab, adminOnly: true },
  { id: "grant", label: "Credit grant", render: grantTab, adminOnly: true },
  { id: "promos", label: "Promo codes", render: promosTab, adminOnly: true },
  { id: "jobs", label: "Effect jobs", render: jobCountsTab },
  { id: "log", label: "Moderation log", render: moderationLogTab },
];

function renderAdmin(main, _params, query) {
  if (!session.isModerator()) {
    main.append(screen("Admin", "admin",
      h("div", { class: "problem", role: "alert" },
        h("p", {}, "You do not have access to the admin console (403)."),
        h("p", {}, "It is for moderators and admins; an admin can give your account a role."))));
    return undefined;
  }
  const visible = TABS.filter((tab) => !tab.adminOnly || session.isAdmin());
  const adminTabs = tabs(visible, { label: "Admin console", initial: query.get("tab") });
  main.append(screen("Admin", "admin",
    h("p", { class: "muted" }, session.isAdmin() ? "Signed in as an admin." : "Signed in as a moderator."),
    adminTabs.element));
  return adminTabs.cleanup;
}
