// Auditor: the incident and its obligations as they stood (a slider over versions, or a
// date-time in Melbourne time), a diff between two versions, the hash-chain verification and
// the audit bundle — all from the event store through /v1.
import { html, useEffect, useState } from '../html.js';
import { download, explain, get, openapi } from '../api.js';
import { fromMelbourneInput, keyWords, humanise, learnVocabulary, melbourne, toMelbourneInput, whyNotMelbourneInput, withMelbourneTimes } from '../format.js';
import { Fact, skipped } from '../facts.js';

/** A changed field's dotted path in words: the state's own fields as a form labels them, a
 * record's keys (a person's reference, "the follow-up determination") as they are. */
export function fieldPath(field) {
  const said = String(field).split('.').filter((p) => !/^\d+$/.test(p))
    .map(keyWords).join(': ');
  return said.charAt(0).toUpperCase() + said.slice(1);
}

function AsOf({ found }) {
  const s = found.state;
  return html`<div aria-live="polite">
    <p>As it stood at version <strong>${found.version}</strong>, ${melbourne(found.as_of)} (policy ${found.policy_version}):
      stage <strong>${humanise(s.stage || (s.closed ? 'closed' : ''))}</strong>, ${(s.types || []).join(', ')}, ${humanise(s.impact)}.</p>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Obligations as they stood"><table class="table cards">
      <caption>Obligations at version ${found.version}</caption>
      <thead><tr><th scope="col">Obligation</th><th scope="col">Due (Melbourne)</th><th scope="col">Status then</th><th scope="col">Met</th></tr></thead>
      <tbody>${found.obligations.map((o) => html`<tr><th scope="row">${humanise(o.kind)}</th><td data-label="Due">${melbourne(o.due)}</td>
        <td data-label="Status then"><span class=${`tag tag-${o.status}`}>${humanise(o.status)}</span></td><td data-label="Met">${o.met_at ? melbourne(o.met_at) : '—'}</td></tr>`)}</tbody></table></div></div>`;
}

export function Auditor({ id }) {
  const [history, setHistory] = useState(null);
  const [version, setVersion] = useState(null);
  const [at, setAt] = useState('');
  const [found, setFound] = useState(null);
  const [diff, setDiff] = useState(null);
  const [pair, setPair] = useState({ a: '1', b: '' });
  const [verified, setVerified] = useState(null);
  const [errors, setErrors] = useState([]);
  const fail = async (e) => setErrors(await explain(e));
  useEffect(() => {
    openapi().then(learnVocabulary).catch(() => {});
    get(`/v1/incidents/${id}/history`).then((h) => {
      setHistory(h);
      const last = h.events[h.events.length - 1].version;
      setVersion(last);
      setPair({ a: String(Math.max(1, last - 1)), b: String(last) });
    }).catch(fail);
  }, [id]);
  useEffect(() => {
    if (version == null) return;
    get(`/v1/incidents/${id}/as-of`, { version }).then((f) => { setFound(f); setErrors([]); }).catch(fail);
  }, [version]);
  if (!history) return html`<h1 tabindex="-1">Audit</h1>${errors.map((e) => html`<p class="error-message">${e.message}</p>`)}<p role="status">Loading…</p>`;
  const events = history.events;
  const last = events[events.length - 1].version;
  const showAt = (e) => {
    e.preventDefault();
    const instant = fromMelbourneInput(at);
    if (!instant) { setErrors([{ field: 'at', message: whyNotMelbourneInput(at) || 'Enter a real date and time, like 30/11/2026 14:30' }]); return; }
    get(`/v1/incidents/${id}/as-of`, { at: instant }).then((f) => { setFound(f); setVersion(null); setErrors([]); }).catch(fail);
  };
  const showDiff = (e) => {
    e.preventDefault();
    get(`/v1/incidents/${id}/diff`, pair).then((d) => { setDiff(d); setErrors([]); }).catch(fail);
  };
  const event = events.find((x) => x.version === (found?.version ?? version));
  // A group whose parts changed is listed part by part; the group's own row says nothing.
  const changed = (diff?.changes || []).filter((c) => !(skipped(c.before) && skipped(c.after)));
  return html`<h1 tabindex="-1">Audit <span class="caption">incident ${id.slice(0, 8)}</span></h1>
    <p><a href=${`#/incidents/${id}`}>Back to the incident</a></p>
    ${errors.length ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><ul>${errors.map((e) => html`<li>${e.message}</li>`)}</ul></div>` : null}
    <section class="panel" aria-labelledby="h-asof"><h2 id="h-asof">State as of</h2>
      <div class="form-group"><label for="as-of-version">Version</label>
        <div class="hint" id="as-of-version-hint">Move the slider to see the incident as it stood after each event (1 to ${last}).</div>
        <input type="range" id="as-of-version" min="1" max=${last} step="1" value=${found?.version ?? version ?? last}
          aria-describedby="as-of-version-hint" aria-valuetext=${event ? `version ${event.version}: ${event.summary || event.type}` : undefined}
          onInput=${(e) => setVersion(Number(e.target.value))} />
        <output for="as-of-version">${event ? `Version ${event.version}: ${event.summary || humanise(event.type)} (${melbourne(event.recorded_at)})` : ''}</output></div>
      <form class="inline-form" onSubmit=${showAt}><div class="form-group"><label for="as-of-at">Or as of a date and time</label>
        <div class="hint" id="as-of-at-hint">Melbourne time, for example 30/11/2026 14:30</div>
        <input type="text" class="medium" id="as-of-at" aria-describedby="as-of-at-hint" value=${at || toMelbourneInput(found?.as_of)} onInput=${(e) => setAt(e.target.value)} /></div>
        <button type="submit" class="button secondary">Show as of this time</button></form>
      ${found ? html`<${AsOf} found=${found} />` : null}</section>
    <section class="panel" aria-labelledby="h-diff"><h2 id="h-diff">Differences between two versions</h2>
      <form class="inline-form" onSubmit=${showDiff}>
        <div class="form-group"><label for="diff-a">From version</label><input id="diff-a" inputmode="numeric" class="short" value=${pair.a} onInput=${(e) => setPair({ ...pair, a: e.target.value })} /></div>
        <div class="form-group"><label for="diff-b">To version</label><input id="diff-b" inputmode="numeric" class="short" value=${pair.b} onInput=${(e) => setPair({ ...pair, b: e.target.value })} /></div>
        <button type="submit" class="button secondary">Compare</button></form>
      ${diff ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Differences"><table class="table cards"><caption>From version ${diff.from_version} to ${diff.to_version}: ${changed.length} change${changed.length === 1 ? '' : 's'}</caption>
        <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
        <tbody>${changed.map((c) => html`<tr><th scope="row">${fieldPath(c.field)}</th>
          <td data-label="Before"><${Fact} v=${c.before} /></td><td data-label="After"><${Fact} v=${c.after} /></td></tr>`)}</tbody></table></div>` : null}</section>
    <section class="panel" aria-labelledby="h-verify"><h2 id="h-verify">Integrity</h2>
      <div class="button-group"><button type="button" class="button secondary" onClick=${() => get(`/v1/incidents/${id}/verify`).then(setVerified).catch(fail)}>Verify the hash chain</button>
      <button type="button" class="button secondary" onClick=${() => download(`/v1/incidents/${id}/export`, `incident-${id}.zip`).catch(fail)}>Download the audit bundle</button></div>
      ${verified ? html`<p role="status" class=${verified.ok ? 'verify-ok' : 'verify-bad'}>${verified.ok
        ? `Verified: ${verified.events_checked} events, the hash chain and versions are intact.`
        : `Broken at version ${verified.first_broken_version}: ${verified.problem}`}</p>` : null}</section>
    <section aria-labelledby="h-history"><h2 id="h-history">Events</h2>
      <ol class="timeline">${events.map((e) => html`<li><p class="timeline-title"><strong>${e.summary || humanise(e.type)}</strong> <span class="tag">version ${e.version}</span></p>
        <p class="timeline-meta">${melbourne(e.recorded_at)} · ${e.actor_id}, ${humanise(e.actor_role).toLowerCase()}, ${e.actor_organisation}</p>
        ${e.reason ? html`<p class="timeline-reason">Reason: ${e.reason}</p>` : null}<p class="hash mono">${e.hash}</p></li>`)}</ol></section>`;
}
