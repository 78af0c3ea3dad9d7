// Sign in and sign up.
import { api } from "../api.js";
import { h } from "../dom.js";
import { navigate } from "../router.js";
import { session } from "../session.js";
import { field, showFormErrors } from "../ui.js";
import { screen } from "./common.js";

// Only an in-app path may be a `next`: never another origin.
function nextHash(query) {
  const next = query.get("next");
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") && !next.startsWith("/signup")
    ? `#${next}` : "#/";
}

function input(name, type, attrs = {}) {
  return h("input", { name, type, id: `${name}-input`, ...attrs });
}

// The API names a taken email or username by code; show it under that field.
const fieldOfCode = { email_taken: "email", username_taken: "username" };

function withCodeField(error) {
  const fieldName = fieldOfCode[error?.code];
  if (!fieldName || error.errors?.some((e) => e.field === fieldName)) return error;
  return { detail: error.detail, errors: [...(error.errors ?? []), { field: fieldName, message: error.detail }] };
}

async function submitAuth(form, slot, button, call, query) {
  button.disabled = true;
  slot.replaceChildren();
  try {
    const answer = await call();
    await session.signIn(answer);
    navigate(nextHash(query), { replace: true });
  } catch (error) {
    showFormErrors(form, slot, withCodeField(error));
    button.disabled = false;
  }
}

function renderLogin(main, _params, query) {
  if (session.signedIn) { navigate(nextHash(query), { replace: true }); return; }
  const { root } = screen(main, "Sign in", { narrow: true });
  if (session.endedBecause) {
    // Kept until the next sign-in, so that it is still there when the person comes back to this screen.
    root.append(h("p", { class: "problem", role: "alert" }, session.endedBecause));
  }
  const email = input("email", "email", { autocomplete: "email", required: true });
  const password = input("password", "password", { autocomplete: "current-password", required: true });
  const slot = h("div");
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h("form", { class: "card stack", novalidate: true },
    field("Email", email), field("Password", password), slot, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAuth(form, slot, button, () => api("/v1/auth/login", {
      method: "POST", auth: false, body: { email: email.value.trim(), password: password.value },
    }), query);
  });
  const signupHref = query.get("next") ? `#/signup?next=${encodeURIComponent(query.get("next"))}` : "#/signup";
  root.append(form, h("p", {}, "New to Reelbase? ", h("a", { href: signupHref }, "Create an account")));
}

function renderSignup(main, _params, query) {
  if (session.signedIn) { navigate(nextHash(query), { replace: true }); return; }
  const { root } = screen(main, "Create your account", { narrow: true });
  const email = input("email", "email", { autocomplete: "email", required: true });
  const username = input("username", "text", {
    autocomplete: "username", required: true, pattern: "[a-z0-9_]{3,30}", maxlength: 30, autocapitalize: "none", spellcheck: "false",
  });
  const displayName = input("display_name", "text", { autocomplete: "name", maxlength: 100 });
  const password = input("password", "password", { autocomplete: "new-password", required: true, minlength: 8 });
  const referral = input("referral_code", "text", { autocapitalize: "characters", maxlength: 8, spellcheck: "false" });
  referral.value = (query.get("ref") ?? "").toUpperCase();
  const slot = h("div");
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Sign up");
  const form = h("form", { class: "card stack", novalidate: true },
    field("Email", email),
    field("Username", username, { hint: "3–30 lowercase letters, digits or _" }),
    field("Display name", displayName),
    field("Password", password, { hint: "At least 8 characters" }),
    field("Referral code (optional)", referral),
    slot, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { email: email.value.trim(), username: username.value.trim(), password: password.value };
    if (displayName.value.trim()) body.display_name = displayName.value.trim();
    if (referral.value.trim()) body.referral_code = referral.value.trim();
    submitAuth(form, slot, button, () => api("/v1/auth/register", { method: "POST", auth: false, body }), query);
  });
  const loginHref = query.get("next") ? `#/login?next=${encodeURIComponent(query.get("next"))}` : "#/login";
  root.append(form, h("p", {}, "Already have an account? ", h("a", { href: loginHref }, "Sign in")));
}

export const routes = [
  { path: "/login", title: "Sign in", auth: false, render: renderLogin },
  { path: "/signup", title: "Sign up", auth: false, render: renderSignup },
];
