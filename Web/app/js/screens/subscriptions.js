// Subscriptions: the plans, subscribing, and managing the current subscription (cancel or resume, change plan at
// the next renewal, a new payment method, which is charged at once when a renewal has failed).
import { api } from "../api.js";
import { h, formatCredits, formatDate, formatMoney } from "../dom.js";
import { live } from "../events.js";
import { confirmDialog, field, formDialog, loading, problem, toast } from "../ui.js";
import { attemptKeeper, isUnsettled } from "../commerce/attempts.js";
import { cardField } from "../commerce/payment.js";
import { definitions, fill, formatDay, panel, screen, select, whileBusy } from "../commerce/widgets.js";

export const routes = [{ path: "/subscriptions", title: "Subscriptions", auth: true, render: renderSubscriptions }];

/** Statuses of the one subscription a user may have at a time (API.md: "Exactly once"). */
const LIVE_STATUSES = new Set(["incomplete", "active", "past_due"]);
const STATUS_TEXT = { incomplete: "Awaiting payment", active: "Active", past_due: "Payment failed", canceled: "Canceled" };
const STATUS_BADGE = { active: "badge-success", past_due: "" }; // core's plain `.badge` is the alert colour

async function renderSubscriptions(main) {
  const current = h("div", { class: "stack" }, loading("Loading your subscription…"));
  // The card field sits in its own slot so that re-rendering the plans never moves it (Stripe's iframe would
  // reload); it is there only while there is no live subscription, so one card field is on screen at a time.
  const cardSlot = h("div");
  const subscribeResult = h("div", { class: "stack", "aria-live": "polite" });
  const planList = h("div", { class: "stack" }, loading("Loading plans…"));
  main.append(screen("Subscriptions", "subscriptions",
    panel("Your subscription", current),
    panel("Plans", cardSlot, subscribeResult, planList)));

  const state = { plans: [], subscription: null, card: null };
  const attempts = attemptKeeper();
  let waitingForCredit = false; // a 3-D Secure subscription: the balance event says its first period was paid

  async function load() {
    try {
      const [{ plans }, subscription] = await Promise.all([api("/v1/subscriptions/plans", { auth: false }), readCurrent(state.subscription)]);
      Object.assign(state, { plans, subscription });
      await render();
    } catch (error) {
      fill(current, problem(error));
      fill(planList);
    }
  }

  async function reloadCurrent() {
    try {
      state.subscription = await readCurrent(state.subscription);
      await render();
    } catch (error) {
      fill(current, problem(error));
    }
  }

  const planName = (id) => state.plans.find((plan) => plan.id === id)?.name ?? id;
  const hasLive = () => state.subscription !== null && LIVE_STATUSES.has(state.subscription.status);

  // The outcome of the last action stays above the subscription until the next action: re-renders caused by
  // live events (the balance event right after subscribing) must not wipe it.
  let notice = null;

  async function render(message) {
    if (message !== undefined) notice = message;
    fill(current,
      notice,
      state.subscription
        ? subscriptionView(state.subscription)
        : h("p", { class: "empty" }, "You have no subscription. Pick a plan below."));
    if (hasLive()) {
      state.card = null;
      fill(cardSlot);
    } else if (!state.card) {
      try {
        state.card = await cardField();
        fill(cardSlot, state.card.element);
      } catch (error) {
        fill(cardSlot, problem(error));
      }
    }
    fill(planList, state.plans.length === 0
      ? h("p", { class: "empty" }, "No plans are on offer.")
      : h("ul", { class: "grid plan-list", "aria-label": "Plans" }, state.plans.map(planCard)));
  }

  function planCard(plan) {
    const isCurrent = hasLive() && state.subscription.plan_id === plan.id;
    const button = h("button", { type: "button", class: "btn btn-primary", onclick: () => state.card && whileBusy(button, () => subscribe(plan)) },
      `Subscribe to ${plan.name}`);
    return h("li", { class: "card plan stack" },
      h("h3", {}, plan.name, isCurrent ? " " : null, isCurrent ? h("span", { class: "badge badge-success" }, "Your plan") : null),
      h("p", { class: "plan-credits" }, `${formatCredits(plan.credits_per_period)} every ${plan.interval}`),
      h("p", {}, h("strong", {}, formatMoney(plan.price, plan.currency)), ` per ${plan.interval}`),
      h("p", { class: "muted" }, "Unused credits expire at the end of each period."),
      hasLive() ? null : button);
  }

  async function subscribe(plan) {
    fill(subscribeResult, loading(`Subscribing to ${plan.name}…`));
    const fingerprint = `${plan.id}|${state.card.fingerprint()}`;
    try {
      const answer = await attempts.run(fingerprint, () => state.card.paymentToken(), (key, token) =>
        api("/v1/subscriptions", {
          method: "POST",
          body: { plan_id: plan.id, payment_method: "card", payment_token: token },
          idempotencyKey: key,
        }));
      state.subscription = answer.subscription;
      fill(subscribeResult);
      if (answer.client_secret) {
        // 202: the bank wants a confirmation (Stripe mode); the webhook activates it and grants the credits.
        waitingForCredit = true;
        const card = state.card;
        await render(loading("Confirm the payment with your bank…"));
        await card.completeAction(answer.client_secret);
        await render(loading("Waiting for the payment to be confirmed…"));
        return;
      }
      await render(h("p", { class: "success", role: "status" },
        `Subscribed to ${plan.name}: ${formatCredits(answer.credits_added)} added. New balance: ${formatCredits(answer.new_balance)}.`));
      focusHeading(current);
    } catch (error) {
      // Subscribed meanwhile (another tab): show that subscription instead of the plans.
      if (error.code === "subscription_exists") {
        state.subscription = await readCurrent(true).catch(() => state.subscription);
        await render();
      }
      fill(subscribeResult, problem(error), isUnsettled(error)
        ? h("p", { class: "muted" }, "Try again: the retry continues this attempt and is never charged twice.")
        : null);
    }
  }

  function subscriptionView(sub) {
    const result = h("div", { class: "stack", "aria-live": "polite" });
    const isLive = LIVE_STATUSES.has(sub.status);
    const canceling = sub.status === "active" && sub.cancel_at_period_end;

    const facts = [
      ["Plan", planName(sub.plan_id)],
      ["Status", h("span", { class: `badge sub-status ${STATUS_BADGE[sub.status] ?? "badge-neutral"}` }, STATUS_TEXT[sub.status] ?? sub.status)],
      ["Current period", `${formatDay(sub.current_period_start)} – ${formatDay(sub.current_period_end)}`],
    ];
    // The exact instant matters here (renewals run at it), so these keep the time of day.
    if (sub.status === "active") facts.push([canceling ? "Ends on" : "Renews on", formatDate(sub.current_period_end)]);
    if (sub.status === "canceled") facts.push(["Ended", formatDate(sub.current_period_end)]);
    if (sub.pending_plan_id && isLive) facts.push(["Next renewal", `Changes to ${planName(sub.pending_plan_id)}`]);

    const actions = h("div", { class: "row" });
    if (canceling) {
      const resume = h("button", { type: "button", class: "btn btn-primary", onclick: () => whileBusy(resume, () => act("resume", result)) }, "Resume subscription");
      actions.append(resume);
    } else if (isLive) {
      const cancel = h("button", { type: "button", class: "btn btn-danger", onclick: () => whileBusy(cancel, () => confirmCancel(sub, result)) }, "Cancel subscription");
      actions.append(cancel);
    }

    return h("div", { class: "stack" },
      h("h3", { tabindex: "-1", class: "subscription-heading" }, `${planName(sub.plan_id)} subscription`),
      sub.status === "past_due"
        ? h("p", { class: "problem", role: "alert" }, "The last renewal payment failed. Update your payment method to pay it now.")
        : null,
      definitions(facts, "subscription-facts"),
      actions,
      result,
      isLive ? changePlanForm(sub) : null,
      isLive ? paymentMethodSection(sub) : null);
  }

  async function confirmCancel(sub, result) {
    const atOnce = sub.status !== "active";
    const sure = await confirmDialog(atOnce
      ? "Cancel the subscription now? It ends at once and is not charged again."
      : `Cancel the subscription? It stays active with its credits until ${formatDate(sub.current_period_end)}, then ends.`,
    // Not "Cancel subscription" again: the dialog's buttons must not share a name with the page's button.
    { confirmLabel: "Yes, cancel it", cancelLabel: "Keep subscription", danger: true });
    if (sure) await act("cancel", result);
  }

  async function act(action, result) {
    fill(result, loading(action === "cancel" ? "Canceling…" : "Resuming…"));
    try {
      state.subscription = await api(action === "cancel" ? "/v1/subscriptions/current/cancel" : "/v1/subscriptions/current/resume", { method: "POST" });
      await render(h("p", { class: "success", role: "status" }, action === "cancel"
        ? (state.subscription.status === "canceled" ? "Your subscription is canceled." : `Your subscription ends on ${formatDate(state.subscription.current_period_end)}.`)
        : "Your subscription will renew."));
      focusHeading(current);
    } catch (error) {
      fill(result, problem(error));
    }
  }

  function changePlanForm(sub) {
    const target = sub.pending_plan_id ?? sub.plan_id;
    const choice = select({ name: "plan_id" }, state.plans.map((plan) => [plan.id, `${plan.name} (${formatMoney(plan.price, plan.currency)})`]), target);
    const message = h("div", { "aria-live": "polite" });
    const button = h("button", { type: "submit", class: "btn" }, "Change plan");
    return h("form", {
      class: "stack",
      onsubmit: (event) => {
        event.preventDefault();
        whileBusy(button, async () => {
          fill(message, loading("Changing plan…"));
          try {
            state.subscription = await api("/v1/subscriptions/current", { method: "PATCH", body: { plan_id: choice.value } });
            const pending = state.subscription.pending_plan_id;
            await render(h("p", { class: "success", role: "status" }, pending
              ? `From the next renewal you are on ${planName(pending)}.`
              : `You stay on ${planName(state.subscription.plan_id)}.`));
            focusHeading(current);
          } catch (error) {
            fill(message, problem(error));
          }
        });
      },
    },
    h("h3", {}, "Change plan"),
    h("p", { class: "muted" }, "A new plan applies from the next renewal; the current period stays as it is."),
    h("div", { class: "row" }, field("New plan", choice), button),
    message);
  }

  // A new card is entered in a dialog, with a card field of its own that exists only while the dialog is open.
  function paymentMethodSection(sub) {
    const button = h("button", { type: "button", class: "btn", onclick: () => whileBusy(button, () => updatePaymentMethod(sub)) },
      "Update payment method");
    return h("div", { class: "stack" },
      h("h3", {}, "Payment method"),
      h("p", { class: "muted" }, sub.status === "past_due"
        ? "A new card is charged at once for the failed renewal."
        : "Renewals are charged to the card you subscribed with."),
      h("div", { class: "row" }, button));
  }

  async function updatePaymentMethod(sub) {
    let card;
    try {
      card = await cardField();
    } catch (error) {
      toast(error.detail ?? error.message, { kind: "error" });
      return;
    }
    const outcome = await formDialog("Update payment method", (form, close) => {
      const message = h("div", { "aria-live": "polite" });
      const save = h("button", { type: "submit", class: "btn btn-primary" }, sub.status === "past_due" ? "Pay with this card" : "Save payment method");
      form.append(card.element,
        message,
        h("div", { class: "row row-end" },
          h("button", { type: "button", class: "btn btn-ghost", onclick: () => close() }, "Cancel"), save));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        whileBusy(save, async () => {
          fill(message, loading(sub.status === "past_due" ? "Paying the failed renewal…" : "Saving…"));
          try {
            const token = await card.paymentToken();
            close(await api("/v1/subscriptions/current", { method: "PATCH", body: { payment_method: "card", payment_token: token } }));
          } catch (error) {
            // A 402 on a past_due subscription leaves it past_due: the detail says why, and another card may be tried.
            fill(message, problem(error));
          }
        });
      });
    });
    if (!outcome) return;
    state.subscription = outcome;
    await render(h("p", { class: "success", role: "status" }, sub.status === "past_due" && outcome.status === "active"
      ? "Payment succeeded: your subscription is active again and this period's credits are in your wallet."
      : "Your new payment method will be used from the next renewal."));
    focusHeading(current);
  }

  const unsubscribe = [
    live.on("balance", () => {
      // A renewal, or a 3-D Secure payment credited by the webhook, changes the subscription too.
      if (waitingForCredit) toast("Payment confirmed", { kind: "success" });
      waitingForCredit = false;
      reloadCurrent();
    }),
    live.on("notification", (notification) => {
      if (notification?.type?.startsWith("subscription_")) reloadCurrent();
    }),
    live.on("reset", () => reloadCurrent()),
  ];
  await load();
  return () => unsubscribe.forEach((off) => off());
}

/**
 * The caller's subscription, or null. "None" is the common case, and `GET /v1/subscriptions/current` says it with a
 * 404, which the browser logs as a console error on every visit; so the ledger is asked first: every paid period
 * is a `subscription` row, and without one there is nothing to read (`known`: a subscription this page already
 * holds, e.g. one still awaiting 3-D Secure, is always read).
 */
async function readCurrent(known) {
  if (!known) {
    const paid = await api("/v1/credits/history", { query: { transaction_type: "subscription", page_size: 1 } });
    if (paid.total === 0) return null;
  }
  try {
    return await api("/v1/subscriptions/current");
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** After the subscription view is rebuilt, keyboard focus goes to its heading instead of falling to the page. */
function focusHeading(container) {
  container.querySelector(".subscription-heading")?.focus();
}
