// Client-side routes in the URL fragment: `#/users/<id>?tab=followers`.
// A route: { path: "/users/:id", title: "Profile", auth: true, render: async (main, params, query) => cleanup? }.
import { h } from "./dom.js";
import { session } from "./session.js";

const routes = [];
let mainElement = null;
let current = null; // { cleanup, view }
let generation = 0;

/** Adds routes (the first match wins, in the order added). */
export function addRoutes(list) {
  for (const route of list) routes.push({ ...route, pattern: compile(route.path) });
}

/**
 * Goes to `hash` ("#/wallet"); going to the current hash renders it again. `replace` swaps the current history
 * entry (redirects: Back must not return to a page that redirects again).
 */
export function navigate(hash, { replace = false } = {}) {
  const target = hash.startsWith("#") ? hash : `#${hash}`;
  if (location.hash === target) render();
  else if (replace) location.replace(target);
  else location.hash = target;
}

/** The current fragment as `{ path, query }`. */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?", 2);
  return { path: path || "/", query: new URLSearchParams(search) };
}

/** Starts routing into `main`. */
export function startRouter(main) {
  mainElement = main;
  window.addEventListener("hashchange", () => render());
  render();
}

/** Renders the current route again (after sign-in or sign-out). */
export function rerender() {
  render();
}

async function render() {
  const { path, query } = currentLocation();
  const found = match(path);
  if (found?.route.auth && !session.signedIn) {
    const next = encodeURIComponent(location.hash.replace(/^#/, "") || "/");
    navigate(`#/login?next=${next}`, { replace: true });
    return;
  }

  const mine = ++generation;
  runCleanup();
  // Each screen renders into a fresh view: a slow screen that finishes after the user has moved on writes into a
  // detached element instead of over the new screen.
  const view = h("div", { class: "view" });
  mainElement.replaceChildren(view);
  const route = found?.route ?? notFoundRoute;
  document.title = `${route.title} · Reelbase`;
  current = { cleanup: null, view };

  let cleanup = null;
  try {
    const rendering = route.render(view, found?.params ?? {}, query);
    focusHeading(view);
    cleanup = await rendering;
  } catch (error) {
    console.error(error);
    view.replaceChildren(h("section", { class: "screen stack" },
      h("h1", {}, "Something went wrong"),
      h("p", { class: "problem", role: "alert" }, "This screen could not be shown. Try again.")));
  }
  if (mine !== generation) {
    if (typeof cleanup === "function") cleanup();
    return;
  }
  current.cleanup = typeof cleanup === "function" ? cleanup : null;
  if (!view.contains(document.activeElement)) focusHeading(view);
  // A screen that replaced its title (a profile, a video) keeps it; the route's title is the default.
}

function runCleanup() {
  if (current?.cleanup) {
    try { current.cleanup(); } catch (error) { console.error(error); }
  }
  current = null;
}

// Focus moves to the new screen's heading so that screen readers and keyboard users start at its top.
function focusHeading(view) {
  const heading = view.querySelector("h1");
  const target = heading ?? mainElement;
  if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: false });
}

function compile(path) {
  const names = [];
  const source = path.split("/").map((part) => {
    if (part.startsWith(":")) {
      names.push(part.slice(1));
      return "([^/]+)";
    }
    return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).join("/");
  return { regex: new RegExp(`^${source}/?$`), names };
}

function match(path) {
  for (const route of routes) {
    const result = route.pattern.regex.exec(path);
    if (!result) continue;
    const params = {};
    route.pattern.names.forEach((name, i) => { params[name] = decodeURIComponent(result[i + 1]); });
    return { route, params };
  }
  return null;
}

const notFoundRoute = {
  title: "Not found",
  render(main) {
    main.append(h("section", { class: "screen stack" },
      h("h1", {}, "Page not found"),
      h("p", { class: "empty" }, "There is nothing at this address."),
      h("p", {}, h("a", { href: "#/" }, "Go to the feed"))));
  },
};
