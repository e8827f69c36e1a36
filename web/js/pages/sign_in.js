// Sign-in: in development, pick a demo identity (the server mints the token); in production,
// OpenID Connect authorization code with PKCE against the configured issuer, in the browser.
import { html, useEffect, useState } from '../html.js';
import { get, post, session } from '../api.js';

const PENDING = 'cims.oidc';
// Where the issuer ends its own session (its discovery document's end_session_endpoint).
const END_SESSION = 'cims.oidc.end_session';

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

async function discover(issuer) {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`the issuer's discovery document answered ${response.status}`);
  return response.json();
}

async function startOidc(oidc) {
  const meta = await discover(oidc.issuer);
  const verifier = random();
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random();
  const nonce = random();
  const redirect = `${window.location.origin}/`;
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, redirect, oidc, token_endpoint: meta.token_endpoint, end_session_endpoint: meta.end_session_endpoint }));
  const url = new URL(meta.authorization_endpoint);
  Object.entries({
    response_type: 'code', client_id: oidc.client_id, redirect_uri: redirect, scope: oidc.scope,
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
  }).forEach(([k, v]) => url.searchParams.set(k, v));
  window.location.assign(url.toString());
}

/** On return from the issuer (?code=…&state=…), exchange the code for tokens; the ID token is
 * the bearer token the API checks against the issuer's keys. */
export async function finishOidcSignIn() {
  const here = new URL(window.location.href);
  const code = here.searchParams.get('code');
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  if (!code || !pending) return;
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, '', '/');
  if (here.searchParams.get('state') !== pending.state) throw new Error('sign-in state does not match');
  const response = await fetch(pending.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: pending.redirect,
      client_id: pending.oidc.client_id, code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`the issuer refused the code: ${response.status}`);
  const tokens = await response.json();
  const claims = JSON.parse(atob(tokens.id_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  if (claims.nonce !== pending.nonce) throw new Error('sign-in nonce does not match');
  session.signIn(tokens.id_token);
  if (pending.end_session_endpoint) {
    sessionStorage.setItem(END_SESSION, JSON.stringify({ endpoint: pending.end_session_endpoint, client_id: pending.oidc.client_id }));
  }
}

/** Sign out here and, when signed in through an issuer that names an end_session_endpoint, at
 * the issuer too (OpenID Connect RP-Initiated Logout): the browser goes there and comes back to
 * `/`. Returns true when it is leaving for the issuer. */
export function signOut() {
  const idToken = session.token;
  const ending = JSON.parse(sessionStorage.getItem(END_SESSION) || 'null');
  session.signOut();
  sessionStorage.removeItem(END_SESSION);
  if (!ending || !idToken) return false;
  const url = new URL(ending.endpoint);
  Object.entries({
    id_token_hint: idToken, client_id: ending.client_id,
    post_logout_redirect_uri: `${window.location.origin}/`,
  }).forEach(([k, v]) => url.searchParams.set(k, v));
  window.location.assign(url.toString());
  return true;
}

export function SignIn({ onSignedIn, problem }) {
  const [config, setConfig] = useState(null);
  const [identities, setIdentities] = useState([]);
  const [error, setError] = useState(problem || null);
  useEffect(() => {
    get('/v1/sign-in').then(async (c) => {
      setConfig(c);
      if (c.development) setIdentities((await get('/v1/dev/identities')).items);
    }).catch((e) => setError(e.message));
  }, []);
  const pick = async (who) => {
    try {
      const token = await post('/v1/dev/token', { sub: who.sub, role: who.role, organisation: who.organisation });
      session.signIn(token.access_token);
      onSignedIn();
    } catch (e) { setError(e.message); }
  };
  const orgs = [...new Set(identities.map((i) => i.organisation))];
  return html`<h1 tabindex="-1">Sign in</h1>
    ${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>` : null}
    ${config?.oidc ? html`<p>Sign in with your organisation's account.</p>
      <button type="button" class="button" onClick=${() => startOidc(config.oidc).catch((e) => setError(e.message))}>Sign in with ${new URL(config.oidc.issuer).host}</button>` : null}
    ${config?.development ? html`<div class="inset">Development sign-in: choose one of the demo identities.
        This page exists only while the server runs with its embedded development secret.</div>
      ${orgs.map((org) => html`<section class="identity-group" aria-labelledby=${`org-${org.replace(/\W/g, '')}`}>
        <h2 id=${`org-${org.replace(/\W/g, '')}`}>${org}</h2>
        <ul class="identity-list">${identities.filter((i) => i.organisation === org).map((i) => html`<li>
          <button type="button" class="button secondary" onClick=${() => pick(i)}>Sign in as ${i.label}, ${org}</button>
          <span class="identity-sub">${i.sub}</span></li>`)}</ul></section>`)}` : null}
    ${config && !config.development && !config.oidc ? html`<p>No sign-in is configured: use a bearer token with the API.</p>` : null}`;
}
