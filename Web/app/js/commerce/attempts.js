// Idempotency keys for paid actions (purchases, subscriptions, effect jobs, redemptions, grants).
// Every new attempt gets a fresh key, so two deliberate purchases are two charges; only a retry of the very same
// attempt after the answer was lost reuses its key, so that the server answers it once instead of charging twice.
import { newIdempotencyKey } from "../api.js";

/**
 * Whether an error leaves the attempt's outcome unknown or unfinished: the request may have reached the server
 * (a network failure), or the first send is still in flight there (`idempotency_in_progress`). Retrying those
 * with a new key could charge twice; any other answer is final, and the next click is a new attempt.
 */
export function isUnsettled(error) {
  return error?.status === 0 || error?.code === "idempotency_in_progress";
}

/**
 * Keeps at most one unsettled attempt. `run(fingerprint, prepare, send)`:
 * - `fingerprint` says what the attempt is (package + card, plan + card, effect + video): a retry must match it;
 * - `prepare()` → the attempt's payment token or other one-off input, made once per attempt (a Stripe
 *   PaymentMethod is created once, and reused by the retry);
 * - `send(key, prepared)` performs the request with that Idempotency-Key.
 */
export function attemptKeeper() {
  let unsettled = null; // { fingerprint, key, prepared }

  return {
    /** Whether the next `run` with this fingerprint continues an unsettled attempt. */
    resumes(fingerprint) {
      return unsettled?.fingerprint === fingerprint;
    },

    async run(fingerprint, prepare, send) {
      let attempt = unsettled?.fingerprint === fingerprint ? unsettled : null;
      unsettled = null;
      if (!attempt) attempt = { fingerprint, key: newIdempotencyKey(), prepared: prepare ? await prepare() : undefined };
      try {
        return await send(attempt.key, attempt.prepared);
      } catch (error) {
        if (isUnsettled(error)) unsettled = attempt;
        throw error;
      }
    },

    /** Drops an unsettled attempt (its inputs changed, so the next click is a new attempt). */
    forget() {
      unsettled = null;
    },
  };
}
