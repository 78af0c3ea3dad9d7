// The site header: brand, navigation, the live credit balance, the live unread badge and the account menu.
import { api } from "./api.js";
import { formatCredits, h } from "./dom.js";
import { live } from "./events.js";
import { session } from "./session.js";
import { menuButton } from "./ui.js";

const state = { unread: 0, balance: null };
let badge = null;
let balanceLink = null;

/** The unread-notifications badge: `unread.refresh()` re-reads the count, `unread.set(n)` sets it. */
export const unread = {
  get count() { return state.unread; },
  set(n) {
    state.unread = Math.max(0, Number(n) || 0);
    paintBadge();
  },
  async refresh() {
    if (!session.signedIn) return;
    try {
      const { count } = await api("/v1/notifications/unread-count");
      this.set(count);
    } catch {
      // The badge keeps its last value; the next event or navigation corrects it.
    }
  },
};

/** Sets the balance shown in the header (the wallet calls this after a purchase too). */
export function setHeaderBalance(balance) {
  state.balance = balance;
  if (session.user) session.user.credits = balance;
  paintBalance();
}

function paintBadge() {
  if (!badge) return;
  const n = state.unread;
  badge.textContent = n >= 1000 ? "999+" : String(n);
  badge.hidden = n === 0;
  badge.parentElement?.querySelector(".badge-text")?.replaceChildren(n === 0 ? "" : ` ${n} unread`);
  // On phones the navigation is folded behind Menu: the count shows on that button too.
  const toggleBadge = document.getElementById("nav-toggle-badge");
  toggleBadge.textContent = badge.textContent;
  toggleBadge.hidden = n === 0;
  const toggle = document.getElementById("nav-toggle");
  if (n === 0) toggle.removeAttribute("aria-label");
  else toggle.setAttribute("aria-label", `Menu, ${n} unread notifications`);
}

function paintBalance() {
  if (!balanceLink) return;
  const text = formatCredits(state.balance ?? 0);
  balanceLink.replaceChildren(h("span", { class: "visually-hidden" }, "Balance: "), text);
}

function navLink(href, label, extra) {
  return h("a", { href, class: "nav-link", dataset: { nav: href } }, label, extra);
}

function render() {
  const nav = document.getElementById("site-nav");
  const status = document.getElementById("header-status");
  badge = null;
  balanceLink = null;
  document.getElementById("nav-toggle-badge").hidden = true;
  document.getElementById("nav-toggle").removeAttribute("aria-label");
  if (!session.user) {
    nav.replaceChildren(navLink("#/", "Feed"), navLink("#/search", "Search"));
    status.replaceChildren(
      h("a", { href: "#/login", class: "btn btn-ghost btn-small" }, "Sign in"),
      h("a", { href: "#/signup", class: "btn btn-primary btn-small" }, "Sign up"));
    markCurrent();
    return;
  }
  badge = h("span", { class: "badge", id: "unread-badge", "aria-hidden": "true", hidden: true }, "0");
  const links = [
    navLink("#/", "Feed"),
    navLink("#/search", "Search"),
    navLink("#/post", "Post a video"),
    navLink("#/notifications", "Notifications", [badge, h("span", { class: "visually-hidden badge-text" })]),
    navLink("#/wallet", "Wallet"),
    navLink("#/subscriptions", "Subscriptions"),
    navLink("#/effects", "Effects"),
  ];
  if (session.isModerator()) links.push(navLink("#/admin", "Admin"));
  nav.replaceChildren(...links);

  balanceLink = h("a", { href: "#/wallet", class: "balance", id: "header-balance", "aria-live": "polite" });
  state.balance = session.user.credits ?? 0;
  const user = session.user;
  const accountLabel = [
    h("span", { class: "avatar avatar-sm avatar-initial", "aria-hidden": "true" },
      (user.display_name || user.username).slice(0, 1).toUpperCase()),
    h("span", { class: "account-name" }, user.display_name || user.username),
  ];
  const account = menuButton(accountLabel, (close) => [
    h("p", { class: "menu-heading muted small" }, `Signed in as @${user.username}`),
    h("a", { class: "menu-item", href: `#/users/${user.id}`, onclick: close }, "My profile"),
    h("a", { class: "menu-item", href: "#/bookmarks", onclick: close }, "Bookmarks"),
    h("a", { class: "menu-item", href: "#/blocked", onclick: close }, "Blocked users"),
    h("a", { class: "menu-item", href: "#/reports", onclick: close }, "My reports"),
    h("button", {
      type: "button", class: "menu-item", onclick: async () => {
        close();
        await session.signOut();
      },
    }, "Sign out"),
  ], { buttonLabel: `Account menu: ${user.display_name || user.username}`, buttonClass: "btn btn-ghost account-btn" });
  status.replaceChildren(balanceLink, account);
  paintBalance();
  paintBadge();
  markCurrent();
}

// aria-current on the link of the screen being shown.
function markCurrent() {
  const path = (location.hash.replace(/^#/, "") || "/").split("?")[0];
  for (const link of document.querySelectorAll(".site-nav .nav-link")) {
    const target = link.dataset.nav.replace(/^#/, "");
    const current = target === "/" ? path === "/" : path === target || path.startsWith(`${target}/`);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** Wires the header once at boot. */
export function startHeader() {
  const toggle = document.getElementById("nav-toggle");
  const nav = document.getElementById("site-nav");
  const header = document.getElementById("site-header");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    header.classList.toggle("nav-open", open);
  });
  nav.addEventListener("click", (event) => {
    if (event.target.closest("a")) {
      toggle.setAttribute("aria-expanded", "false");
      header.classList.remove("nav-open");
    }
  });
  // The skip link focuses <main> itself: a fragment link would be read as a route.
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    const main = document.getElementById("main");
    (main.querySelector("h1") ?? main).focus();
  });
  window.addEventListener("hashchange", markCurrent);

  let shownUserId; // undefined: nothing rendered yet (null is "signed out")
  const onUser = (user) => {
    // A new sign-in (or another account) rebuilds the header; a `me` refresh only repaints the balance.
    if ((user?.id ?? null) !== shownUserId) {
      shownUserId = user?.id ?? null;
      state.unread = 0;
      render();
      if (user) unread.refresh();
    } else if (user) {
      render(); // a profile edit renames the account menu; the badge keeps its count
    }
  };
  session.onChange(onUser);
  onUser(session.user);

  live.on("balance", ({ balance }) => setHeaderBalance(balance));
  live.on("notification", (notification) => {
    if (!notification.read_at) unread.set(state.unread + 1);
  });
  live.on("reset", () => unread.refresh());
  live.on("open", ({ reconnect }) => { if (reconnect) unread.refresh(); });
}

