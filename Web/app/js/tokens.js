// Where the credentials live, and the one refresh in flight.
//
// Why the access token is kept in memory and the refresh token in sessionStorage: see session.js.

const REFRESH_KEY = "reelbase.refresh_token";

let accessToken = null;
let accessExpiresAt = 0;
let refreshInFlight = null;
let refreshTimer = null;
const lostListeners = new Set();

export const tokens = {
  get access() { return accessToken; },
  get refresh() {
    try { return sessionStorage.getItem(REFRESH_KEY); } catch { return null; }
  },
  get hasSession() { return Boolean(accessToken || this.refresh); },

  /** Keeps the tokens of an auth response (`register`, `login`, `refresh`). */
  set({ access_token, refresh_token, expires_in }) {
    accessToken = access_token;
    accessExpiresAt = Date.now() + (Number(expires_in) || 900) * 1000;
    try { sessionStorage.setItem(REFRESH_KEY, refresh_token); } catch { /* storage disabled: memory only */ }
    scheduleRefresh(Number(expires_in) || 900);
  },

  clear() {
    accessToken = null;
    accessExpiresAt = 0;
    clearTimeout(refreshTimer);
    refreshTimer = null;
    try { sessionStorage.removeItem(REFRESH_KEY); } catch { /* nothing stored */ }
  },

  /** Whether the access token is about to expire (then a request refreshes first instead of collecting a 401). */
  get accessExpiring() { return !accessToken || Date.now() > accessExpiresAt - 10_000; },

  /**
   * Exchanges the refresh token for new tokens; every caller during one exchange shares it, because a second
   * exchange with the same (now rotated) token would look like reuse and revoke the session.
   * Resolves true on success; on failure clears the tokens, tells `onLost` listeners and resolves false.
   */
  renew() {
    if (refreshInFlight) return refreshInFlight;
    const refresh = this.refresh;
    if (!refresh) return Promise.resolve(false);
    refreshInFlight = (async () => {
      try {
        const response = await fetch("/v1/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: refresh }),
        });
        if (!response.ok) {
          // A network failure (below) keeps the session for a retry; an answer saying no ends it.
          const problem = await response.json().catch(() => null);
          this.clear();
          const reason = { status: response.status, code: problem?.code ?? null, detail: problem?.detail ?? null };
          for (const fn of lostListeners) fn(reason);
          return false;
        }
        this.set(await response.json());
        return true;
      } catch {
        return false;
      } finally {
        refreshInFlight = null;
      }
    })();
    return refreshInFlight;
  },

  /** Calls `fn({status, code, detail})` when the session is lost (a refresh refused); returns the unsubscribe function. */
  onLost(fn) {
    lostListeners.add(fn);
    return () => lostListeners.delete(fn);
  },
};

// Refreshing a minute before expiry keeps requests from meeting a 401 at all (browsers log every 401).
function scheduleRefresh(expiresIn) {
  clearTimeout(refreshTimer);
  const delay = Math.max(5, expiresIn - 60) * 1000;
  refreshTimer = setTimeout(() => { tokens.renew(); }, delay);
}
