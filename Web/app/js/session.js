// Who is signed in, and the tokens that prove it.
//
// Token storage, and why a security reviewer can accept it:
// - The access token (short-lived, 15 min by default) is kept in memory only (tokens.js), so nothing persistent
//   holds a token the API accepts; a reload gets a fresh one by refreshing at boot.
// - The refresh token is kept in sessionStorage: it survives a reload of this tab, is gone when the tab closes,
//   and is never put in a URL or a cookie (the API reads only the Authorization header, so there is no CSRF
//   surface). Only script running in the page can read it, and the page's CSP is strict (`default-src 'self'`:
//   no inline or third-party script, no eval) while every API string is rendered as text (dom.js `h`).
// - The server rotates the refresh token at every use and revokes the whole family when a used one comes back
//   (reuse detection), so a copied refresh token is good for one use at most, and using it ends the real session.
// - Sign-out revokes the session on the server (POST /v1/auth/logout), then clears every token and cached state.
import { api } from "./api.js";
import { tokens } from "./tokens.js";

const listeners = new Set();

function changed() {
  for (const fn of listeners) {
    try { fn(session.user); } catch (error) { console.error(error); }
  }
}

export const session = {
  /** `GET /v1/users/me` (profile plus `email`, `credits`, `role`, `referral_code`), or null when signed out. */
  user: null,

  /** Why the last session ended without a sign-out (the sign-in screen shows it until the next sign-in), or null. */
  endedBecause: null,

  get signedIn() { return this.user !== null && tokens.hasSession; },

  /** Takes a register/login answer: keeps its tokens, then reads the full `me`. */
  async signIn(authResponse) {
    this.endedBecause = null;
    tokens.set(authResponse);
    this.user = { ...authResponse.user };
    try {
      await this.refreshMe();
    } catch {
      changed(); // the partial user from the auth answer is still a signed-in user
    }
  },

  /** Revokes the session on the server (best effort), then forgets everything about it here. */
  async signOut() {
    const refresh = tokens.refresh;
    if (refresh) {
      try {
        await api("/v1/auth/logout", { method: "POST", body: { refresh_token: refresh }, auth: false });
      } catch {
        // Offline or already revoked: the local session ends all the same.
      }
    }
    this.endedBecause = null;
    forget();
  },

  /** Re-reads `GET /v1/users/me` (credits, role, profile edits) and tells listeners. */
  async refreshMe() {
    this.user = await api("/v1/users/me");
    changed();
    return this.user;
  },

  /** At boot: a refresh token from this tab's earlier page load becomes a session again. */
  async restore() {
    if (!tokens.refresh) return false;
    if (!(await tokens.renew())) return false;
    try {
      await this.refreshMe();
      return true;
    } catch {
      return false;
    }
  },

  /** Calls `fn(user)` on every sign-in, sign-out and `me` change; returns the unsubscribe function. */
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },

  isModerator() { return this.user?.role === "moderator" || this.user?.role === "admin"; },
  isAdmin() { return this.user?.role === "admin"; },
};

function forget() {
  tokens.clear();
  session.user = null;
  changed();
}

// A refresh the server refused (revoked, reused, suspended) ends the session here too; the sign-in screen says why
// when it is news to the person (they were signed in, or the account is suspended).
tokens.onLost((reason) => {
  if (session.user !== null || reason?.code === "account_suspended") {
    session.endedBecause = reason?.detail || "Your session has ended. Please sign in again.";
  }
  if (session.user !== null) forget();
});
