// The one way screens talk to the API: JSON in and out, problem details turned into ApiError, the bearer token
// attached, and one transparent refresh when the access token has expired.
import { tokens } from "./tokens.js";

/** A failed request: the RFC 9457 problem body's fields, or status 0 when the server could not be reached. */
export class ApiError extends Error {
  status;
  code;
  detail;
  errors;
  retryAfter;

  constructor({ status, code = null, detail, errors = [], retryAfter = null, body = null }) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.retryAfter = retryAfter;
    this.body = body;
  }

  /** The message of the `errors[]` entry for `field`, if any. */
  fieldError(field) {
    return this.errors.find((e) => e.field === field)?.message ?? null;
  }
}

/**
 * `api("/v1/videos/", { query: { cursor, limit: 20 } })` → the parsed JSON body (`null` for 204).
 * Throws ApiError on a network failure or any non-2xx answer.
 */
export async function api(path, { method = "GET", query, body, headers, idempotencyKey, auth = true } = {}) {
  const url = withQuery(path, query);
  const send = async () => {
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
    if (auth && tokens.access) init.headers.Authorization = `Bearer ${tokens.access}`;
    try {
      return await fetch(url, init);
    } catch {
      throw new ApiError({ status: 0, code: "network_error", detail: "Could not reach the server" });
    }
  };

  if (auth && tokens.refresh && tokens.accessExpiring) await tokens.renew();
  let response = await send();
  if (response.status === 401 && auth && tokens.refresh) {
    // An access token that expired or was revoked: one shared refresh, then one retry. A refused refresh signs
    // out (session.js listens to tokens.onLost).
    if (await tokens.renew()) response = await send();
  }
  return read(response);
}

async function read(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  if (response.ok) return json;
  const retryAfter = response.headers.get("Retry-After");
  throw new ApiError({
    status: response.status,
    code: json?.code ?? null,
    detail: json?.detail || json?.title || `The server answered ${response.status}`,
    errors: Array.isArray(json?.errors) ? json.errors : [],
    retryAfter: retryAfter === null ? null : Number(retryAfter),
    body: json,
  });
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

/** A fresh key for one attempt of a paid action (a retry of the same attempt reuses it). */
export function newIdempotencyKey() {
  return crypto.randomUUID();
}

let paymentsConfigPromise = null;

/** `GET /v1/payments/config` → `{gateway, publishable_key}`, fetched once per page load. */
export async function paymentsConfig() {
  paymentsConfigPromise ??= api("/v1/payments/config", { auth: false }).catch((error) => {
    paymentsConfigPromise = null; // let a later call try again
    throw error;
  });
  return paymentsConfigPromise;
}
