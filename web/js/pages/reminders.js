// Reminders: a person's email subscriptions (a manager: the organisation's), subscribing and
// ending, and the reminders they were sent. All through /v1/reminders.
import { html, useEffect, useState } from '../html.js';
import { explain, get, openapi, post } from '../api.js';
import { humanise, melbourne } from '../format.js';

const SCOPES = {
  worklist: 'Everything owed on my organisation\'s incidents',
  named: 'Only incidents I am named on (as investigator or outcome reviewer)',
};
const THRESHOLDS = { due_soon: 'Due soon', overdue: 'Overdue', digest: 'Daily summary' };
const STATUSES = {
  pending: 'Waiting to be sent', sent: 'Sent', failed: 'Could not be delivered',
  cancelled: 'Not sent: done or extended first',
};

function useObligationNames() {
  const [names, setNames] = useState({});
  useEffect(() => {
    openapi().then((d) => setNames(d?.components?.schemas?.ObligationKind?.['x-enum-descriptions'] || {}))
      .catch(() => {});
  }, []);
  return (kind) => names[kind] || humanise(kind);
}

export function Reminders({ who }) {
  const manager = who.role === 'incident_manager';
  const [subscriptions, setSubscriptions] = useState(null);
  const [sent, setSent] = useState(null);
  const [log, setLog] = useState(null);
  const [email, setEmail] = useState('');
  const [scope, setScope] = useState('worklist');
  const [errors, setErrors] = useState([]);
  const [done, setDone] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const obligation = useObligationNames();

  const load = () => {
    get('/v1/reminders/subscriptions').then((r) => setSubscriptions(r.items)).catch((e) => setLoadError(e.message));
    get('/v1/reminders/sent').then((r) => setSent(r.items)).catch((e) => setLoadError(e.message));
    if (manager) get('/v1/reminders/subscriptions/log').then((r) => setLog(r.items)).catch(() => setLog([]));
  };
  useEffect(load, []);

  const subscribe = async (e) => {
    e.preventDefault();
    setErrors([]); setDone(null);
    try {
      const made = await post('/v1/reminders/subscriptions', { email: email.trim() || undefined, scope });
      setDone(`Reminders will be sent to ${made.email}.`);
      setEmail('');
      load();
      requestAnimationFrame(() => document.getElementById('reminders-done')?.focus());
    } catch (err) {
      const found = await explain(err);
      setErrors(found);
      requestAnimationFrame(() => document.getElementById('reminders-errors')?.focus());
    }
  };
  const end = async (s) => {
    setErrors([]); setDone(null);
    try {
      await post(`/v1/reminders/subscriptions/${encodeURIComponent(s.id)}/end`, {});
      setDone(`Reminders to ${s.email} have stopped.`);
      load();
      requestAnimationFrame(() => document.getElementById('reminders-done')?.focus());
    } catch (err) {
      setErrors(await explain(err));
    }
  };
  const emailError = errors.find((x) => x.field === 'email');

  return html`<h1 tabindex="-1">Reminders</h1>
    <p class="lede">An email when something on your worklist is due within the next business day, another if it becomes overdue, and a summary at 7:30 am on business days of what is due this week. Emails name the incident by its short id and the step that is due — never a client or what happened.</p>
    ${loadError ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${loadError}</p></div>` : null}
    ${errors.length ? html`<div class="error-summary" id="reminders-errors" tabindex="-1" role="alert"><h2>There is a problem</h2>
      <ul>${errors.map((x) => html`<li>${x.field ? html`<a href=${`#reminders-${x.field}`} onClick=${(ev) => { ev.preventDefault(); document.getElementById(`reminders-${x.field}`)?.focus(); }}>${x.message}</a>` : x.message}</li>`)}</ul></div>` : null}
    ${done ? html`<div class="notice success" id="reminders-done" tabindex="-1" role="status">${done}</div>` : null}

    <h2>Your subscriptions</h2>
    ${subscriptions === null ? html`<p role="status">Loading…</p>` : subscriptions.length === 0
      ? html`<p>You receive no reminders yet.</p>`
      : html`<ul class="reminder-cards">${subscriptions.map((s) => html`<li>
          <p><strong>${s.email}</strong>${s.subject !== who.sub ? html` <span class="caption">(${s.subject})</span>` : null}</p>
          <p>${SCOPES[s.scope]}</p>
          <p class="caption">Since ${melbourne(s.since)}</p>
          <button type="button" class="button secondary" onClick=${() => end(s)}>Stop reminders to ${s.email}</button>
        </li>`)}</ul>`}

    <form onSubmit=${subscribe} aria-labelledby="reminders-new" novalidate>
      <h2 id="reminders-new">Subscribe</h2>
      <div class=${`form-group${emailError ? ' has-error' : ''}`}>
        <label for="reminders-email">Email address <span class="optional">(optional)</span></label>
        <p class="hint" id="reminders-email-hint">Leave empty to use the address your sign-in carries.</p>
        ${emailError ? html`<p class="error-message" id="reminders-email-error">${emailError.message}</p>` : null}
        <input type="email" id="reminders-email" autocomplete="email" value=${email}
          aria-describedby=${emailError ? 'reminders-email-hint reminders-email-error' : 'reminders-email-hint'}
          aria-invalid=${emailError ? 'true' : undefined} onInput=${(e) => setEmail(e.target.value)} />
      </div>
      <fieldset class="form-group"><legend>Remind me about</legend>
        ${Object.entries(SCOPES).map(([value, label]) => html`<div class="radio">
          <input type="radio" id=${`reminders-scope-${value}`} name="scope" value=${value} checked=${scope === value} onChange=${() => setScope(value)} />
          <label for=${`reminders-scope-${value}`}>${label}</label></div>`)}
      </fieldset>
      <button type="submit" class="button">Subscribe</button>
    </form>

    <h2>Reminders sent to you</h2>
    ${sent === null ? html`<p role="status">Loading…</p>` : sent.length === 0
      ? html`<p>None yet.</p>`
      : html`<ul class="reminder-cards">${sent.map((r) => html`<li>
          <p><strong>${THRESHOLDS[r.threshold]}</strong> · ${STATUSES[r.status]}${r.sent_at && r.status === 'sent' ? ` ${melbourne(r.sent_at)}` : ''}</p>
          <ul class="plain">${r.incident_ids.map((id, i) => html`<li><a href=${`#/incidents/${id}`}>Incident ${id.slice(0, 8)}</a>: ${obligation(r.obligations[i])}</li>`)}</ul>
        </li>`)}</ul>`}

    ${manager && log ? html`<h2>Your organisation's subscriptions: who and when</h2>
      ${log.length === 0 ? html`<p>No one in your organisation has subscribed yet.</p>` : html`<ul class="plain">${log.map((e) => html`<li>
        ${melbourne(e.at)}: ${e.actor_id} ${e.action === 'ended' ? 'stopped' : 'started'} reminders to ${e.email}</li>`)}</ul>`}` : null}`;
}
