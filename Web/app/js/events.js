// The live event stream (GET /v1/events, Server-Sent Events) while signed in.
// `live.on("notification" | "balance" | "job" | "reset" | "open" | "closed", fn)` → unsubscribe.
//
// EventSource cannot send an Authorization header, and an access token never goes in a URL: each connection takes
// a single-use ticket (POST /v1/events/tickets). Because a ticket works once, EventSource's own reconnect (same URL)
// would be refused, so every drop closes the source and this module reconnects with a new ticket and the last id.
import { api } from "./api.js";

const listeners = new Map();
let source = null;
let running = false;
let lastEventId = null;
let lastSeq = 0;
let retryTimer = null;
let attempt = 0;
let wasOpen = false;

function emit(type, data) {
  for (const fn of listeners.get(type) ?? []) {
    try { fn(data); } catch (error) { console.error(error); }
  }
}

// Ids are "<seq>-<tag>", increasing per user; delivery is at least once, so anything not newer was seen already.
function isNew(id) {
  const seq = Number.parseInt(String(id).split("-")[0], 10);
  if (!Number.isFinite(seq)) return true;
  if (seq <= lastSeq) return false;
  lastSeq = seq;
  return true;
}

async function connect() {
  if (!running) return;
  let ticket;
  try {
    ({ ticket } = await api("/v1/events/tickets", { method: "POST" }));
  } catch (error) {
    // Signed out meanwhile (401 after a refused refresh) ends the stream; anything else retries later.
    if (error.status === 401 || error.status === 403) { live.stop(); return; }
    scheduleRetry();
    return;
  }
  if (!running) return;
  const query = new URLSearchParams({ ticket });
  if (lastEventId) query.set("last_event_id", lastEventId);
  const es = new EventSource(`/v1/events?${query}`);
  source = es;

  es.addEventListener("open", () => {
    attempt = 0;
    const reconnect = wasOpen;
    wasOpen = true;
    emit("open", { reconnect });
  });
  for (const type of ["notification", "balance", "job"]) {
    es.addEventListener(type, (event) => {
      if (event.lastEventId && !isNew(event.lastEventId)) return;
      if (event.lastEventId) lastEventId = event.lastEventId;
      let data = null;
      try { data = JSON.parse(event.data); } catch { return; }
      emit(type, data);
    });
  }
  es.addEventListener("reset", (event) => {
    // The server could not replay from our id: state must be read again. Ids restart from what comes next.
    lastSeq = 0;
    if (event.lastEventId) lastEventId = event.lastEventId;
    emit("reset", {});
  });
  es.addEventListener("error", () => {
    if (source !== es) return;
    es.close();
    source = null;
    emit("closed", {});
    scheduleRetry();
  });
}

function scheduleRetry() {
  if (!running) return;
  clearTimeout(retryTimer);
  // 1 s, 2 s, 4 s … up to 30 s between attempts, so a server restart is picked up quickly but not hammered.
  const delay = Math.min(30_000, 1000 * 2 ** attempt);
  attempt += 1;
  retryTimer = setTimeout(connect, delay);
}

export const live = {
  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(fn);
    return () => listeners.get(type)?.delete(fn);
  },

  /** Opens the stream (signed in). A second call while running does nothing. */
  start() {
    if (running) return;
    running = true;
    attempt = 0;
    wasOpen = false;
    connect();
  },

  /** Closes the stream and forgets its position (sign-out: the next account starts fresh). */
  stop() {
    running = false;
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) {
      source.close();
      source = null;
      emit("closed", {});
    }
    lastEventId = null;
    lastSeq = 0;
    wasOpen = false;
  },

  get connected() { return source?.readyState === EventSource.OPEN; },
};
