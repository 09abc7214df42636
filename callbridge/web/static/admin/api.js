// Talking to the admin HTTP API (docs/campaigns.md). Every /api call goes through here so that
// the token is always sent as a header (never in a URL) and a 401 anywhere sends the person back
// to the login form. The token is kept in sessionStorage only: it is gone when the tab closes.

const TOKEN_KEY = 'callbridge-admin-token';

let token = null;
let generation = 0;  // bumped at sign-in and sign-out: answers to older requests are dropped
let onRefused = () => {};

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}
class AuthError extends Error {}   // 401: the page has already gone back to the login form
class StaleError extends Error {}  // an answer for a session that has ended

// ---------------------------------------------------------------- the session

export function startSession(value) {
  token = value;
  generation += 1;
}

export function endSession() {
  generation += 1;
  token = null;
}

export function signedIn() { return !!token; }

// For the upload, which uses XMLHttpRequest and so cannot go through api().
export function sessionGeneration() { return generation; }
export function authHeader() { return 'Bearer ' + token; }

// The login module decides what a refused token means; set once at start-up.
export function whenTokenRefused(handler) { onRefused = handler; }
export function tokenRefused() { onRefused(); }

export function readStoredToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (_) { return null; }
}

export function storeToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) { /* storage off: the token lives in memory until the page closes */ }
}

// 204: right token; 401: wrong one. Returns true, false, or throws on a network error.
export async function checkToken(value) {
  const res = await fetch('/api/auth', { headers: { Authorization: 'Bearer ' + value }, cache: 'no-store' });
  if (res.status === 401) return false;
  if (!res.ok) throw await errorFrom(res);
  return true;
}

// ---------------------------------------------------------------- requests

export async function api(method, path, { json, body } = {}) {
  const gen = generation;
  const headers = { Authorization: 'Bearer ' + token };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const res = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
  if (gen !== generation) throw new StaleError('stale');
  if (res.status === 401) {
    tokenRefused();
    throw new AuthError('unauthorised');
  }
  return res;
}

export async function apiJson(method, path, opts) {
  const res = await api(method, path, opts);
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export function phrasePath(phrase) { return '/api/phrases/' + encodeURIComponent(phrase); }

export function templatePath(name) { return '/api/templates/' + encodeURIComponent(name); }

// ---------------------------------------------------------------- errors

// The API answers errors as {"error": "..."}; anything else (a proxy page, plain text) is shortened.
export async function errorFrom(res) {
  let text = '';
  try { text = await res.text(); } catch (_) { /* body lost: fall back to the status */ }
  return errorFromText(text, res.status, res.statusText);
}

export function errorFromText(text, status, statusText) {
  try {
    const data = JSON.parse(text);
    if (data && typeof data.error === 'string' && data.error) return new ApiError(data.error, status);
  } catch (_) { /* not JSON */ }
  if (status === 413) return new ApiError('The file is too big: 200 MB at most.', status);
  const plain = String(text || '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  return new ApiError(plain || ('The server answered ' + status + ' ' + (statusText || '') + '.').replace(' .', '.'), status);
}

// Errors already handled elsewhere (sign-out, a stale answer) are not shown again.
export function quiet(err) { return err instanceof AuthError || err instanceof StaleError; }

export function describe(err) {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'Could not reach the server. Check that callbridge is running, then try again.';
  return (err && err.message) || String(err);
}
