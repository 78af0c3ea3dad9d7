// Admin console, "Promo codes" tab: create codes with every option, list them, and end a leaked one early.
import { api } from "../api.js";
import { h, formatCredits, formatDate } from "../dom.js";
import { field, loading, pagedList, problem, showFormErrors, toast } from "../ui.js";
import { fill, optionalInteger, toInstant, whileBusy } from "./widgets.js";

export function promosTab(container) {
  const list = pagedList({
    label: "Promo codes",
    empty: "No promo codes yet.",
    fetchPage: async (cursor) => {
      const page = await api("/v1/admin/promo-codes", { query: { cursor: cursor ?? undefined, limit: 20 } });
      return { items: page.promo_codes, nextCursor: page.next_cursor, hasMore: page.has_more };
    },
    renderItem: promoCard,
  });
  container.append(createForm((code) => list.prepend(code)), h("h3", {}, "Codes"), list);
  return () => list.destroy?.();
}

function createForm(onCreated) {
  const code = h("input", { name: "code", type: "text", autocomplete: "off", spellcheck: "false", required: true, minlength: "4", maxlength: "32" });
  const credits = h("input", { name: "credits", type: "number", min: "1", max: "100000", step: "1", required: true, inputmode: "numeric" });
  const maxRedemptions = h("input", { name: "max_redemptions", type: "number", min: "1", max: "1000000", step: "1", inputmode: "numeric" });
  const expiresAt = h("input", { name: "expires_at", type: "datetime-local" });
  const ttlDays = h("input", { name: "credits_ttl_days", type: "number", min: "1", max: "3650", step: "1", inputmode: "numeric" });
  const creditsExpireAt = h("input", { name: "credits_expire_at", type: "datetime-local" });
  const slot = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Create code");

  const form = h("form", {
    class: "stack promo-form",
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      whileBusy(button, create);
    },
  },
  h("div", { class: "row" },
    field("Code", code, { hint: "4–32 of A–Z, 0–9, _ and -; stored upper-case." }),
    field("Credits", credits)),
  h("div", { class: "row" },
    field("Max redemptions", maxRedemptions, { hint: "Optional; no limit when empty." }),
    field("Code expires at", expiresAt, { hint: "Optional; your local time." })),
  h("div", { class: "row" },
    field("Credits expire after days", ttlDays, { hint: "Optional." }),
    field("Credits expire at", creditsExpireAt, { hint: "Optional; or days, not both." })),
  h("div", { class: "row" }, button),
  slot);

  async function create() {
    fill(slot, loading("Creating…"));
    try {
      const created = await api("/v1/admin/promo-codes", {
        method: "POST",
        body: {
          code: code.value.trim(),
          credits: optionalInteger(credits.value),
          max_redemptions: optionalInteger(maxRedemptions.value),
          expires_at: toInstant(expiresAt.value),
          credits_ttl_days: optionalInteger(ttlDays.value),
          credits_expire_at: toInstant(creditsExpireAt.value),
        },
      });
      showFormErrors(form, slot, null);
      fill(slot, h("p", { class: "success", role: "status" }, `Created ${created.code}.`));
      for (const input of form.querySelectorAll("input")) input.value = "";
      onCreated(created);
    } catch (error) {
      showFormErrors(form, slot, error); // 409 promo_code_taken, 422 per field
    }
  }

  return h("section", { class: "stack", "aria-label": "New promo code" }, h("h3", {}, "New code"), form);
}

function promoCard(initial) {
  let promo = initial;
  const card = h("article", { class: "card promo stack", "aria-label": `Promo code ${promo.code}` });
  const message = h("div", { "aria-live": "polite" });

  const render = () => {
    const ended = promo.expires_at && new Date(promo.expires_at) <= new Date();
    const endButton = h("button", {
      type: "button", class: "btn btn-danger", "aria-label": `End ${promo.code} now`,
      onclick: () => whileBusy(endButton, endNow),
    }, "End now");
    const creditsExpiry = promo.credits_ttl_days
      ? `credits expire ${promo.credits_ttl_days} days after redemption`
      : promo.credits_expire_at ? `credits expire on ${formatDate(promo.credits_expire_at)}` : "credits never expire";
    fill(card,
      h("div", { class: "row promo-head" },
        h("h4", { class: "promo-code" }, promo.code),
        h("span", { class: ended ? "badge badge-neutral" : "badge badge-success" }, ended ? "Ended" : "Active")),
      h("p", {}, `${formatCredits(promo.credits)} · ${creditsExpiry}`),
      h("p", { class: "muted" },
        promo.max_redemptions ? `${promo.redemptions} of ${promo.max_redemptions} redeemed` : `${promo.redemptions} redeemed, no limit`,
        " · ",
        promo.expires_at ? `${ended ? "ended" : "ends"} ${formatDate(promo.expires_at)}` : "no end date",
        ` · created ${formatDate(promo.created_at)}`),
      ended ? null : h("div", { class: "row" }, endButton),
      message);
  };

  async function endNow() {
    fill(message, loading("Ending…"));
    try {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      promo = await api(`/v1/admin/promo-codes/${encodeURIComponent(promo.code)}`, { method: "PATCH", body: { expires_at: now } });
      fill(message);
      render();
      toast(`${promo.code} ended`, { kind: "success" });
      card.querySelector(".promo-code").setAttribute("tabindex", "-1");
      card.querySelector(".promo-code").focus();
    } catch (error) {
      fill(message, problem(error));
    }
  }

  render();
  return card;
}
