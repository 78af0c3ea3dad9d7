// Small building blocks shared by the commerce screens (wallet, subscriptions, effects, admin console).
// Core's ui.js has the app-wide ones (problem, loading, toast, pagedList, confirmDialog, field); these are the few
// the commerce screens need in addition.
import { h } from "../dom.js";

let counter = 0;

/** A page-unique id for label/aria wiring: `uid("promo")` → "promo-7". */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * `el.replaceChildren(...)` the way `h` takes children: arrays flattened, null/false/undefined skipped (the DOM's
 * own method would print "null" or "[object HTMLElement]" for them).
 */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return el;
}

/** The screen's root with its `<h1>` (the router focuses it), rendered before anything loads. */
export function screen(title, className, ...children) {
  return h("section", { class: `screen stack ${className}` }, h("h1", { tabindex: "-1" }, title), ...children);
}

/** A card section headed by an `<h2>` that also names it (landmark navigation finds it by that name). */
export function panel(title, ...children) {
  const id = uid("panel");
  return h("section", { class: "card stack", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** A `<select>` of `[value, text]` options with `selected` chosen. */
export function select(attrs, options, selected) {
  return h("select", attrs, options.map(([value, text]) => h("option", { value, selected: value === selected }, text)));
}

/** "+500" / "-10": ledger amounts always show their sign. */
export function signed(n) {
  const value = Number(n);
  return `${value > 0 ? "+" : value < 0 ? "-" : ""}${new Intl.NumberFormat().format(Math.abs(value))}`;
}

const day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** "Jan 4, 2027": for periods and expiry dates, where the time of day is noise. */
export function formatDay(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : day.format(date);
}

/** A `datetime-local` value (the reader's local time) → an RFC 3339 UTC instant, or undefined when empty. */
export function toInstant(localValue) {
  if (!localValue) return undefined;
  const date = new Date(localValue);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An integer from a number input, or undefined when empty (so the key is left out of the body). */
export function optionalInteger(value) {
  return value === "" || value === null || value === undefined ? undefined : Number(value);
}

/**
 * Runs `action` for a button at most once at a time. The button stays focusable (aria-disabled instead of
 * disabled, which would drop keyboard focus to the page) and says it is busy.
 */
export async function whileBusy(button, action) {
  if (button.getAttribute("aria-disabled") === "true") return undefined;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.removeAttribute("aria-disabled");
    button.removeAttribute("aria-busy");
  }
}

/**
 * Wraps an async refresh so that bursts (a balance event per ledger row) run it at most twice: once now and
 * once more after the current run if anything asked again meanwhile.
 */
export function coalesced(refresh) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await refresh();
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
    return undefined;
  };
  return run;
}

/** A `<dl>` of `[term, value]` pairs. */
export function definitions(pairs, className = "") {
  return h("dl", { class: `definitions ${className}` },
    pairs.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))));
}

/**
 * A `.table` inside its own scrolling container (phones scroll the table, never the page); rows are `<tr>`s.
 * A heading given as `[text, "num"]` is right-aligned over a numeric column.
 */
export function table(caption, headings, rows) {
  return h("div", { class: "table-wrap" },
    h("table", { class: "table" },
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, headings.map((heading) => {
        const [text, className] = Array.isArray(heading) ? heading : [heading, null];
        return h("th", { scope: "col", class: className }, text);
      }))),
      h("tbody", {}, rows)));
}

/**
 * Accessible tabs (WAI-ARIA tabs pattern): arrow keys, Home and End move between tabs. Only the selected panel has
 * content: each visit renders it afresh (a moderation console should show the queue as it is now), and the
 * panel left behind is emptied and its cleanup run, so labels repeated across panels ("Credits") name one control
 * on the page at a time. `tabs([{ id, label, render(panel) → cleanup? }])` → `{ element, cleanup() }`.
 */
export function tabs(list, { label, initial } = {}) {
  const baseId = uid("tabs");
  const buttons = [];
  const panels = [];
  let selected = -1;
  let cleanup = null;

  const leave = () => {
    if (typeof cleanup === "function") cleanup();
    cleanup = null;
  };

  const show = (index, { focus = false } = {}) => {
    if (focus) buttons[index].focus();
    if (index === selected) return;
    leave();
    selected = index;
    buttons.forEach((button, i) => {
      const chosen = i === index;
      button.setAttribute("aria-selected", String(chosen));
      button.tabIndex = chosen ? 0 : -1;
      panels[i].hidden = !chosen;
      if (!chosen) fill(panels[i]);
    });
    const rendering = index;
    Promise.resolve(list[index].render(panels[index])).then((done) => {
      if (selected === rendering) cleanup = done;
      else if (typeof done === "function") done();
    });
  };

  list.forEach((tab, index) => {
    const tabId = `${baseId}-${tab.id}`;
    buttons.push(h("button", {
      type: "button", role: "tab", id: tabId, class: "tab", "aria-controls": `${tabId}-panel`,
      onclick: () => show(index),
    }, tab.label));
    panels.push(h("div", { role: "tabpanel", id: `${tabId}-panel`, "aria-labelledby": tabId, tabindex: "0", class: "stack tab-panel", hidden: true }));
  });

  const tablist = h("div", {
    role: "tablist", class: "tabs", "aria-label": label,
    onkeydown: (event) => {
      const current = buttons.indexOf(document.activeElement);
      if (current < 0) return;
      const last = buttons.length - 1;
      const next = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      show((next + buttons.length) % buttons.length, { focus: true });
    },
  }, buttons);

  const start = Math.max(0, list.findIndex((tab) => tab.id === initial));
  show(start);
  return {
    element: h("div", { class: "stack" }, tablist, panels),
    cleanup: leave,
  };
}
