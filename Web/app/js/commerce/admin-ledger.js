// Admin console, admin-only money tabs: the ledger audit and credit grants.
import { api } from "../api.js";
import { h, formatCredits, formatDate } from "../dom.js";
import { field, loading, problem, showFormErrors } from "../ui.js";
import { attemptKeeper, isUnsettled } from "./attempts.js";
import { fill, optionalInteger, table, toInstant, whileBusy } from "./widgets.js";

/**
 * "Ledger audit": every list the audit returns, whatever new checks the server adds, so a finding is never
 * hidden by a client that did not know its name. Clean means every list is empty.
 */
export function auditTab(container) {
  const result = h("div", { class: "stack", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "btn btn-primary", onclick: () => whileBusy(button, run) }, "Run audit");

  async function run() {
    fill(result, loading("Auditing every balance, running sum and lot…"));
    try {
      fill(result, auditReport(await api("/v1/admin/credits/audit")));
    } catch (error) {
      fill(result, problem(error));
    }
  }

  container.append(
    h("p", { class: "muted" }, "Recomputes every balance from the ledger rows, every lot from its draws, and every payment's credits."),
    h("div", { class: "row" }, button),
    result);
  run();
}

function auditReport(report) {
  const lists = Object.entries(report).filter(([, value]) => Array.isArray(value));
  const findings = lists.reduce((sum, [, items]) => sum + items.length, 0);
  const checked = `${new Intl.NumberFormat().format(report.users_checked ?? 0)} users checked`;
  return h("div", { class: "stack audit-report" },
    findings === 0
      ? h("p", { class: "audit-clean", role: "status" }, `Ledger is clean: ${checked}, no findings.`)
      : h("p", { class: "audit-dirty problem", role: "alert" }, `${findings} ${findings === 1 ? "finding" : "findings"}: ${checked}.`),
    h("ul", { class: "audit-summary" }, lists.map(([name, items]) =>
      h("li", {}, `${humanize(name)}: `, h("strong", {}, items.length === 0 ? "none" : String(items.length))))),
    lists.filter(([, items]) => items.length > 0).map(([name, items]) => findingsTable(name, items)));
}

function findingsTable(name, items) {
  const columns = [...new Set(items.flatMap((item) => (item && typeof item === "object" ? Object.keys(item) : ["value"])))];
  return h("section", { class: "stack" },
    h("h3", {}, humanize(name)),
    table(humanize(name), columns.map(humanize), items.map((item) =>
      h("tr", {}, columns.map((column) => h("td", {}, show(item && typeof item === "object" ? item[column] : item)))))));
}

/** "payment_mismatches" → "Payment mismatches". */
function humanize(key) {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function show(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** "Credit grant": a `bonus` row for any user, optionally expiring; one Idempotency-Key per attempt. */
export function grantTab(container) {
  const userId = h("input", { name: "user_id", type: "text", autocomplete: "off", spellcheck: "false", required: true });
  const credits = h("input", { name: "credits", type: "number", min: "1", max: "1000000", step: "1", required: true, inputmode: "numeric" });
  const reason = h("input", { name: "reason", type: "text", required: true, maxlength: "200" });
  const expiresAt = h("input", { name: "expires_at", type: "datetime-local" });
  const expiresInDays = h("input", { name: "expires_in_days", type: "number", min: "1", step: "1", inputmode: "numeric" });
  const slot = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Grant credits");
  const attempts = attemptKeeper();

  const form = h("form", {
    class: "stack grant-form",
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      whileBusy(button, grant);
    },
  },
  field("User id", userId, { hint: "The account's id (from the Users tab or its profile address)." }),
  field("Credits", credits),
  field("Reason", reason, { hint: "Shown in the user's history as the row's description." }),
  h("div", { class: "row" },
    field("Expires at", expiresAt, { hint: "Optional; your local time." }),
    field("Expires in days", expiresInDays, { hint: "Optional; or give a date, not both." })),
  h("div", { class: "row" }, button),
  slot);

  async function grant() {
    const body = {
      user_id: userId.value.trim(),
      credits: optionalInteger(credits.value),
      reason: reason.value.trim(),
      expires_at: toInstant(expiresAt.value),
      expires_in_days: optionalInteger(expiresInDays.value),
    };
    fill(slot, loading("Granting…"));
    try {
      const row = await attempts.run(JSON.stringify(body), null, (key) =>
        api("/v1/admin/credits/grants", { method: "POST", body, idempotencyKey: key }));
      showFormErrors(form, slot, null);
      fill(slot, h("p", { class: "success", role: "status" },
        `Granted ${formatCredits(row.credits)} to ${row.user_id}: their balance is now ${formatCredits(row.balance_after)}`,
        row.expires_at ? `; these credits expire on ${formatDate(row.expires_at)}.` : "; these credits never expire."));
      for (const input of [credits, reason, expiresAt, expiresInDays]) input.value = "";
    } catch (error) {
      showFormErrors(form, slot, error); // 422 names its fields; 404 unknown user
      if (isUnsettled(error)) slot.append(h("p", { class: "muted" }, "Try again: the retry is applied once."));
    }
  }

  container.append(form);
}
