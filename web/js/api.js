// The one module that talks to the server. Pages call these functions, never `fetch`.
// It adds the signed-in user's bearer token, an Idempotency-Key to commands and If-Match to
// commands on an incident, and turns problem details (RFC 9457) into an ApiError whose field
// errors carry the rule's own message from /v1/rules.

import { forgetEverything } from './drafts.js';

const TOKEN = 'cims.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** [{field, rule, message}]: what the server refused, field by field. */
  get errors() {
    const found = this.problem.errors || [];
    if (found.length) return found;
    return [{ field: null, rule: this.problem.rule, message: this.message }];
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  signIn(token) { sessionStorage.setItem(TOKEN, token); },
  /** Sign out: the token and every draft and pending sign-in go (see drafts.js). */
  signOut() { forgetEverything(); },
  /** The signed-in identity from the token's claims: {sub, role, organisation}. */
  get identity() {
    const token = this.token;
    if (!token) return null;
    try {
      const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      if (claims.exp && claims.exp * 1000 < Date.now()) return null;
      return { sub: claims.sub, role: claims.role, organisation: claims.org };
    } catch {
      return null;
    }
  },
};

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function send(path, { method = 'GET', params, body, headers = {}, raw = false } = {}) {
  const all = { Accept: 'application/json, application/problem+json', ...headers };
  if (session.token) all.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) all['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path + query(params), {
      method, headers: all, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, { title: 'The server could not be reached', detail: 'The server could not be reached. Check your connection and try again: sending again is safe.' });
  }
  if (response.status === 401) {
    session.signOut();
    window.dispatchEvent(new Event('cims:signed-out'));
  }
  if (!response.ok) {
    let problem;
    try { problem = await response.json(); } catch { problem = { title: response.statusText }; }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** GET a /v1 resource; `params` become the query string (empty values left out). */
export const get = (path, params) => send(path, { params });

/** A fresh Idempotency-Key: one per submission, reused only to retry that same submission. */
export const newKey = () => crypto.randomUUID();

/** POST a command. `version` is sent as If-Match; `key` as Idempotency-Key. */
export function command(path, body, { version, key } = {}) {
  const headers = { 'Idempotency-Key': key || newKey() };
  if (version != null) headers['If-Match'] = `"${version}"`;
  return send(path, { method: 'POST', body, headers });
}

export const post = (path, body) => send(path, { method: 'POST', body });

/** Download a binary resource (e.g. an audit bundle) as a file named `filename`. */
export async function download(path, filename) {
  const response = await send(path, { raw: true, headers: { Accept: 'application/zip' } });
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

let rulesOnce;
/** The rule catalogue by id ({} if the server has none): the messages refusals are shown with. */
export function rules() {
  rulesOnce ??= send('/v1/rules').then(
    (r) => Object.fromEntries((r.items || []).map((x) => [x.id, x])),
    () => ({}),
  );
  return rulesOnce;
}

let openapiOnce;
/** The OpenAPI document: request schemas the forms are generated from. */
export function openapi() {
  openapiOnce ??= send('/openapi.json');
  return openapiOnce;
}

/** Field errors of a refusal, each with the rule's catalogued message where there is one. */
export async function explain(error) {
  if (!(error instanceof ApiError)) return [{ field: null, message: String(error) }];
  const catalogue = await rules();
  return error.errors.map((e) => {
    const rule = catalogue[e.rule];
    const message = rule?.message && !String(e.rule || '').startsWith('schema.') ? rule.message : e.message;
    const said = String(message || error.message);
    return { field: e.field || null, rule: e.rule, message: said.charAt(0).toUpperCase() + said.slice(1) };
  });
}

/** POST a multipart form (a document upload) with XMLHttpRequest, so `onProgress(sent, total)`
 * can follow the bytes going up. `version` is sent as If-Match, `key` as Idempotency-Key.
 * Resolves with the accepted command; rejects with an ApiError as `command` does. */
export function upload(path, form, { version, key, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    if (session.token) xhr.setRequestHeader('Authorization', `Bearer ${session.token}`);
    xhr.setRequestHeader('Idempotency-Key', key || newKey());
    if (version != null) xhr.setRequestHeader('If-Match', `"${version}"`);
    xhr.upload.onprogress = (e) => { if (onProgress && e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, { title: 'The server could not be reached', detail: 'The upload did not reach the server. Check your connection and try again: sending again is safe.' }));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = { title: xhr.statusText }; }
      if (xhr.status === 401) { session.signOut(); window.dispatchEvent(new Event('cims:signed-out')); }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.send(form);
  });
}
