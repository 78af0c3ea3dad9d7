// Collecting a card: a mock token field with the mock gateway, Stripe Elements with Stripe.
// Both give the same small interface, so the wallet and subscriptions screens do not care which gateway runs:
//   { element, mode, fingerprint(), paymentToken(), completeAction(clientSecret) }
import { h } from "../dom.js";
import { paymentsConfig } from "../api.js";
import { uid } from "./widgets.js";

const STRIPE_JS = "https://js.stripe.com/v3/";
let stripeLoading = null; // one Stripe.js load per page, shared by every card field

/** A card field for the configured gateway: "Card token" (mock) or Stripe's card element, labelled "Card". */
export async function cardField() {
  const config = await paymentsConfig();
  return config.gateway === "stripe" ? stripeCardField(config.publishable_key) : mockCardField();
}

/** An error shaped like ApiError's visible part, so `problem()` shows it. */
function paymentError(detail, code = "payment_client_error") {
  const error = new Error(detail);
  error.status = -1;
  error.code = code;
  error.detail = detail;
  error.errors = [];
  return error;
}

// The mock gateway takes tokens as text: `tok_fail…` is declined, any other `tok_…`/`pm_…` pays.
function mockCardField() {
  const id = uid("card-token");
  const hintId = `${id}-hint`;
  const input = h("input", {
    id, name: "payment_token", type: "text", value: "tok_visa", autocomplete: "off", spellcheck: "false",
    required: true, "aria-describedby": hintId,
  });
  const element = h("div", { class: "field card-field" },
    h("label", { for: id }, "Card token"),
    input,
    h("p", { id: hintId, class: "muted" }, "Test payments: tok_visa pays; a token starting with tok_fail is declined."));
  return {
    element,
    mode: "mock",
    // The token itself identifies the card: a changed token is a new attempt.
    fingerprint: () => input.value.trim(),
    async paymentToken() {
      const token = input.value.trim();
      if (!token) {
        input.focus();
        throw paymentError("Enter a card token, for example tok_visa.");
      }
      return token;
    },
    async completeAction() {
      throw paymentError("The mock gateway never asks for a confirmation step.");
    },
  };
}

function loadStripe(publishableKey) {
  stripeLoading ??= new Promise((resolve, reject) => {
    const script = h("script", { src: STRIPE_JS, async: true });
    script.addEventListener("load", () => resolve(window.Stripe(publishableKey)));
    script.addEventListener("error", () => {
      stripeLoading = null; // a later screen may try again
      script.remove();
      reject(paymentError("Stripe could not be loaded, so cards cannot be taken right now."));
    });
    document.head.append(script);
  });
  return stripeLoading;
}

// Stripe mode: the card number never touches our page (it lives in Stripe's iframe); we send a PaymentMethod id.
function stripeCardField(publishableKey) {
  const id = uid("card");
  const mount = h("div", { class: "stripe-card", id: `${id}-element` });
  const message = h("p", { class: "problem", role: "alert", hidden: true });
  const element = h("div", { class: "field card-field", role: "group", "aria-labelledby": `${id}-label` },
    h("span", { id: `${id}-label` }, "Card"), mount, message);
  let stripe = null;
  let card = null;
  let edits = 0; // each change of the card makes the next attempt a new one

  const showMessage = (text) => {
    message.hidden = !text;
    message.textContent = text ?? "";
  };
  const ready = loadStripe(publishableKey).then((instance) => {
    stripe = instance;
    card = stripe.elements().create("card");
    card.mount(mount);
    card.on("change", (event) => {
      edits += 1;
      showMessage(event.error?.message);
    });
  }, (error) => showMessage(error.detail));

  return {
    element,
    mode: "stripe",
    fingerprint: () => String(edits),
    async paymentToken() {
      await ready;
      if (!stripe) throw paymentError("Stripe could not be loaded, so cards cannot be taken right now.");
      const { paymentMethod, error } = await stripe.createPaymentMethod({ type: "card", card });
      if (error) throw paymentError(error.message, "card_error");
      return paymentMethod.id;
    },
    // 3-D Secure and other customer actions: Stripe shows its own dialog; the server learns the outcome by webhook.
    async completeAction(clientSecret) {
      await ready;
      const { error } = await stripe.handleNextAction({ clientSecret });
      if (error) throw paymentError(error.message, "card_error");
    },
  };
}
