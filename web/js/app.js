// The shell: sign-in gate, navigation by role, and a hash router over one module per page.
import { html, render, useEffect, useState } from './html.js';
import { session } from './api.js';
import { navigate } from './nav.js';
import { SignIn, finishOidcSignIn, signOut as signOutEverywhere } from './pages/sign_in.js';
import { Worklist } from './pages/worklist.js';
import { Incidents } from './pages/incidents.js';
import { Report } from './pages/report.js';
import { IncidentPage } from './pages/incident.js';
import { Auditor } from './pages/auditor.js';
import { Department } from './pages/department.js';
import { Feed } from './pages/feed.js';
import { Reminders } from './pages/reminders.js';
import { Patterns } from './pages/patterns.js';

const PAGES = [
  { path: 'worklist', title: 'Worklist', roles: ['incident_manager', 'department_officer', 'investigator', 'reporter', 'reviewer'], page: Worklist },
  { path: 'incidents', title: 'Incidents', roles: ['reporter', 'incident_manager', 'department_officer', 'investigator', 'reviewer', 'auditor', 'admin'], page: Incidents },
  { path: 'report', title: 'Report an incident', roles: ['reporter', 'incident_manager', 'department_officer', 'admin'], page: Report },
  { path: 'department', title: 'Statistics', roles: ['department_officer', 'auditor', 'admin', 'incident_manager'], page: Department },
  { path: 'feed', title: 'Feed', roles: ['regulator', 'admin'], page: Feed },
  { path: 'reminders', title: 'Reminders', roles: ['incident_manager', 'department_officer', 'investigator', 'reporter', 'reviewer'], page: Reminders },
  { path: 'patterns', title: 'Patterns', roles: ['department_officer', 'incident_manager'], page: Patterns },
];
const LANDING = {
  incident_manager: 'worklist', investigator: 'worklist', reporter: 'report', reviewer: 'incidents',
  department_officer: 'department', auditor: 'incidents', regulator: 'feed', admin: 'incidents',
};

function parse(hash) {
  const [path, q] = hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q || '') };
}


function route(parts, params, who) {
  const [first, id, sub] = parts;
  if (first === 'incidents' && id && sub === 'audit') return [html`<${Auditor} key=${id} id=${id} />`, 'Audit'];
  if (first === 'incidents' && id) return [html`<${IncidentPage} key=${id} id=${id} step=${params.get('step')} who=${who} />`, 'Incident'];
  const page = PAGES.find((p) => p.path === first);
  if (page) return [html`<${page.page} params=${params} who=${who} />`, page.title];
  return [null, null];
}

function App({ problem }) {
  const [hash, setHash] = useState(window.location.hash);
  const [who, setWho] = useState(session.identity);
  useEffect(() => {
    const onHash = () => setHash(window.location.hash);
    const onOut = () => setWho(null);
    window.addEventListener('hashchange', onHash);
    window.addEventListener('cims:signed-out', onOut);
    return () => { window.removeEventListener('hashchange', onHash); window.removeEventListener('cims:signed-out', onOut); };
  }, []);
  const { parts, params } = parse(hash);
  let [content, title] = who ? route(parts, params, who) : [null, null];
  useEffect(() => {
    if (who && !content) navigate(`#/${LANDING[who.role] || 'incidents'}`);
  }, [who, content]);
  useEffect(() => {
    document.title = `${title || 'Sign in'} – CIMS Ledger`;
    // After a route change, put focus on the page's heading for screen-reader users.
    document.querySelector('main h1')?.focus?.();
  }, [hash, title]);
  if (!who) {
    content = html`<${SignIn} problem=${problem} onSignedIn=${() => { setWho(session.identity); navigate(`#/${LANDING[session.identity?.role] || 'incidents'}`); }} />`;
  }
  const signOut = () => { if (!signOutEverywhere()) { setWho(null); navigate('#/'); } };
  const links = who ? PAGES.filter((p) => p.roles.includes(who.role)) : [];
  // The router owns the hash, so the skip link moves focus itself.
  const skip = (e) => { e.preventDefault(); document.getElementById('main')?.focus(); };
  return html`
    <a class="skip-link" href="#main" onClick=${skip}>Skip to main content</a>
    <header class="site-header">
      <div class="container header-inner">
        <a class="brand" href="#/">CIMS Ledger</a>
        ${who ? html`<nav aria-label="Main"><ul>
          ${links.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${parts[0] === p.path ? 'page' : undefined}>${p.title}</a></li>`)}
        </ul></nav>
        <div class="who"><span>${who.sub} · ${who.role.replace(/_/g, ' ')} · ${who.organisation}</span>
          <button type="button" class="link-button" onClick=${signOut}>Sign out</button></div>` : null}
      </div>
    </header>
    <main id="main" class="container" tabindex="-1">${content}</main>
    <footer class="site-footer"><div class="container">Times are shown in Melbourne time. <a href="/docs">API documentation</a></div></footer>`;
}

async function start() {
  let problem = null;
  try {
    await finishOidcSignIn();
  } catch (err) {
    problem = `Sign-in did not complete: ${err.message}`;
  }
  render(html`<${App} problem=${problem} />`, document.getElementById('app'));
}

start();
