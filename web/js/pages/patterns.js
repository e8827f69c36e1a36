// Patterns of harm: the possible patterns the API suggests across a client's incidents, each
// escalated as a new major-impact incident or dismissed with the reason; and one client's
// incidents in time order. A suggestion is for a person to decide on, never a decision.
import { html, useEffect, useRef, useState } from '../html.js';
import { command, explain, get, openapi, post } from '../api.js';
import { ErrorSummary, SchemaFields, initial, placed, toBody, validate } from '../form.js';
import { humanise, learnVocabulary, melbourne } from '../format.js';
import { navigate } from '../nav.js';
import { clientChoices } from './report.js';

function IncidentRows({ items, caption }) {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}><table class="table cards">
    <caption class="visually-hidden">${caption}</caption>
    <thead><tr><th scope="col">Incident</th><th scope="col">Organisation</th><th scope="col">Became aware (Melbourne)</th><th scope="col">Impact</th><th scope="col">Stage</th></tr></thead>
    <tbody>${items.map((i) => html`<tr>
      <td data-label="Incident"><a href=${`#/incidents/${i.id}`}>${(i.types || []).join(', ') || (i.legacy_types || []).join(', ')}</a> <span class="mono">${i.id.slice(0, 8)}</span></td>
      <td data-label="Organisation">${i.organisation}</td><td data-label="Became aware">${melbourne(i.became_aware_at)}</td>
      <td data-label="Impact">${humanise(i.impact)}</td><td data-label="Stage">${humanise(i.stage)}</td></tr>`)}</tbody></table></div>`;
}

/** Decide on one suggestion: escalate (a new major-impact report, from the API's own schema)
 * or dismiss, each with a reason. */
function Decide({ suggestion, doc, mode, onDone, onCancel }) {
  const components = doc.components.schemas;
  const schema = mode === 'escalate' ? components.EscalationIn : components.DismissalIn;
  const [value, setValue] = useState(() => {
    const start = initial(schema, components);
    if (mode === 'escalate') {
      start.impact = 'major';
      start.clients = suggestion.client_refs.map((ref) => ({ ...initial(components.Client, components), ref }));
      start.types = [...new Set(suggestion.incidents.flatMap((i) => i.types || []))];
    }
    return start;
  });
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const heading = useRef(null);
  useEffect(() => { heading.current?.focus(); }, [mode]);
  const submit = async (e) => {
    e.preventDefault();
    const found = validate(schema, value, components).filter((x) => !/^(pattern_of|incident_ids)/.test(x.field || ''));
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      const body = { ...toBody(schema, value, components) };
      if (mode === 'escalate') {
        const made = await command('/v1/patterns/escalations', { ...body, pattern_of: suggestion.incident_ids });
        onDone(`Escalated as a new major-impact incident ${made.id.slice(0, 8)}.`, made.id);
      } else {
        const dismissed = await post('/v1/patterns/dismissals', { ...body, incident_ids: suggestion.incident_ids });
        // Read the suggestions again once they include the dismissal (read your own write).
        const at = Math.max(0, ...(dismissed.incidents || []).map((i) => i.position || 0));
        onDone('Dismissed: the reason is recorded on each incident.', null, at);
      }
    } catch (err) { setErrors(placed(await explain(err), schema, components)); } finally { setBusy(false); }
  };
  const title = mode === 'escalate' ? 'Escalate as a pattern of harm' : 'Dismiss this possible pattern';
  const onKey = (e) => { if (e.key === 'Escape') { e.preventDefault(); onCancel(); } };
  return html`<section class="panel" aria-labelledby="decide-title" onKeyDown=${onKey}>
    <h3 id="decide-title" tabindex="-1" ref=${heading}>${title}</h3>
    <${ErrorSummary} errors=${errors} />
    <form onSubmit=${submit} noValidate>
      <${SchemaFields} schema=${schema} components=${components} value=${value} onChange=${setValue} errors=${errors}
        omit=${['pattern_of', 'incident_ids']} choices=${clientChoices(value)} />
      <div class="button-group"><button type="submit" class="button" disabled=${busy}>${title}</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button></div>
    </form></section>`;
}

function ClientLookup({ who }) {
  const officer = who.role === 'department_officer';
  const [ask, setAsk] = useState({ department_client_id: '', client_ref: '', organisation: '' });
  const [found, setFound] = useState(null);
  const [errors, setErrors] = useState([]);
  const look = async (e) => {
    e.preventDefault();
    try {
      setFound(await get('/v1/patterns/clients', ask));
      setErrors([]);
    } catch (err) { setErrors(await explain(err)); setFound(null); }
  };
  const field = (name, label, hint) => html`<div class="form-group"><label for=${`pc-${name}`}>${label}</label>
    ${hint ? html`<div class="hint" id=${`pc-${name}-hint`}>${hint}</div>` : null}
    <input id=${`pc-${name}`} type="text" aria-describedby=${hint ? `pc-${name}-hint` : undefined} value=${ask[name]}
      onInput=${(e) => setAsk({ ...ask, [name]: e.target.value.trim() })} /></div>`;
  return html`<section aria-labelledby="h-client"><h2 id="h-client">One client's incidents</h2>
    <form class="filters" onSubmit=${look} aria-label="Find a client's incidents">
      ${officer ? field('department_client_id', 'Department client ID', '6 to 10 digits: across every provider') : null}
      ${field('client_ref', "Provider's client reference")}
      ${officer ? field('organisation', 'Organisation of that reference') : null}
      <button type="submit" class="button">Show incidents</button></form>
    ${errors.length ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><ul>${errors.map((x) => html`<li>${x.message}</li>`)}</ul></div>` : null}
    ${found ? html`<p role="status">${found.count} incident${found.count === 1 ? '' : 's'} from ${melbourne(found.window.since)} to ${melbourne(found.window.until)}.</p>
      ${found.items.length ? html`<${IncidentRows} items=${found.items} caption="The client's incidents, oldest first" />` : null}` : null}</section>`;
}

export function Patterns({ who }) {
  const [items, setItems] = useState(null);
  const [doc, setDoc] = useState(null);
  const [deciding, setDeciding] = useState(null); // {index, mode}
  const [notice, setNotice] = useState(null);
  const [error, setError] = useState(null);
  const noticeBox = useRef(null);
  const load = (at) => get('/v1/patterns/suggestions', at ? { min_position: at } : {}).then((r) => setItems(r.items)).catch((e) => setError(e.message));
  useEffect(() => { load(); openapi().then((d) => { learnVocabulary(d); setDoc(d); }).catch(() => {}); }, []);
  useEffect(() => { if (notice) { noticeBox.current?.scrollIntoView({ block: 'center' }); noticeBox.current?.focus(); } }, [notice]);
  const open = (index, mode) => { setNotice(null); setDeciding({ index, mode }); };
  const done = (message, made, at) => {
    setDeciding(null);
    if (made) { navigate(`#/incidents/${made}`); return; }
    setNotice(message); load(at);
  };
  return html`<h1 tabindex="-1">Patterns of harm</h1>
    <p class="lede">Incidents about one client that together may reach major impact. Each suggestion is for you to decide on: escalate it as a new major-impact incident, or dismiss it with your reason.</p>
    ${notice ? html`<div class="notice" role="status" tabindex="-1" ref=${noticeBox}>${notice}</div>` : null}
    ${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>` : null}
    <section aria-labelledby="h-suggestions"><h2 id="h-suggestions">Possible patterns</h2>
    ${items === null ? html`<p role="status">Loading…</p>` : items.length === 0 ? html`<p>No possible patterns to decide on.</p>`
      : html`<ol class="plain suggestions">${items.map((s, index) => html`<li class="suggestion"><article aria-labelledby=${`sg-${index}`}>
        <h3 id=${`sg-${index}`}>${s.incident_ids.length} incidents about ${[...s.client_refs, ...s.department_client_ids.map((d) => `department client ID ${d}`)].join(', ')}</h3>
        <p class="hint">At least ${s.min_incidents} incidents within ${s.window_days} days (policy ${s.policy_version}).</p>
        <${IncidentRows} items=${s.incidents} caption=${`Incidents of possible pattern ${index + 1}`} />
        <div class="button-group">
          <button type="button" class="button" onClick=${() => open(index, 'escalate')}>Escalate as a pattern of harm<span class="visually-hidden">: possible pattern ${index + 1}</span></button>
          <button type="button" class="button secondary" onClick=${() => open(index, 'dismiss')}>Dismiss<span class="visually-hidden"> possible pattern ${index + 1}</span></button></div>
        ${deciding?.index === index && doc ? html`<${Decide} key=${deciding.mode} suggestion=${s} doc=${doc} mode=${deciding.mode}
          onDone=${done} onCancel=${() => setDeciding(null)} />` : null}</article></li>`)}</ol>`}</section>
    <${ClientLookup} who=${who} />`;
}
