// Incident: header, obligations, the commands this caller may issue next (each opening its
// form, generated from the request schema), the timeline, the fairness checklist and the audit
// trail. A 409/412 shows what changed since the page was loaded and offers a retry on the new
// version.
import { html, useEffect, useRef, useState } from '../html.js';
import { ApiError, command, explain, get, newKey, openapi, session } from '../api.js';
import { ErrorSummary, SchemaFields, initial, toBody, validate } from '../form.js';
import { deadline, humanise, melbourne, withMelbourneTimes } from '../format.js';
import { DocumentLinks, DocumentsPanel, FairnessDocuments, useDocuments } from './documents.js';

// The roles the API lets read the access log (api/authorisation.py AUDITORS).
const READS_LOG = new Set(['auditor', 'department_officer']);

const COMMAND_PATH = /^\/v1\/incidents\/\{incident_id\}\/([a-z-]+)$/;

/** What the caller may do next: the API's `next_actions`, or, from a server that does not say,
 * every command in the OpenAPI document (the server still refuses what the caller may not do). */
function actionsOf(incident, doc, id) {
  if (Array.isArray(incident.next_actions)) {
    return incident.next_actions.map((a) => ({ ...a, title: String(a.title).replace(/\.$/, '') }));
  }
  return Object.entries(doc.paths || {}).flatMap(([path, ops]) => {
    const m = COMMAND_PATH.exec(path);
    const ref = ops.post?.requestBody?.content?.['application/json']?.schema?.$ref;
    if (!m || !ref) return [];
    return [{ command: m[1], method: 'POST', href: path.replace('{incident_id}', id), title: humanise(String(ops.post.summary || m[1]).split(/[:.(]/)[0].trim()), schema: ref.split('/').pop(), meets: [] }];
  });
}

function Summary({ incident }) {
  const d = incident.details || {};
  const rows = [
    ['Incident', incident.id], ['Organisation', incident.reporting_organisation],
    ['Types', (incident.types || []).join(', ')], ['Impact', humanise(incident.impact)],
    ['Stage', humanise(incident.stage)], ['Version', String(incident.version)],
    ['Reported', melbourne(incident.reported_at)], ['Became aware', melbourne(d.became_aware_at)],
    ['Occurred', d.occurred_at ? melbourne(d.occurred_at) : d.occurred_between ? `${melbourne(d.occurred_between.start)} to ${melbourne(d.occurred_between.end)}` : '—'],
    ['Program', humanise(incident.program)], ['Clients', (incident.clients || []).map((c) => c.ref).join(', ')],
    ['Subjects of allegation', (incident.subjects || []).map((s) => `${s.ref} (${humanise(s.role).toLowerCase()})`).join(', ') || '—'],
    ['Other provider responsible', d.other_provider || '—'], ['Historical', d.historical ? 'Yes' : 'No'],
    ['Investigator', incident.investigator_ref || '—'], ['Location', d.location], ['Description', d.description],
    ['Immediate actions', d.immediate_actions || '—'],
  ];
  return html`<dl class="summary-list">${rows.map(([k, v]) => html`<div class="summary-row"><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function Obligations({ items, step, actions, onOpen }) {
  const focused = useRef(null);
  useEffect(() => { focused.current?.focus(); }, [step]);
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="Obligations table"><table class="table">
    <caption class="visually-hidden">Obligations with deadlines and status</caption>
    <thead><tr><th scope="col">Obligation</th><th scope="col">Due (Melbourne)</th><th scope="col">Deadline</th><th scope="col">Status</th><th scope="col">Met</th><th scope="col">Next step</th></tr></thead>
    <tbody>${items.map((o) => {
      const here = o.kind === step;
      const by = (o.met_by || []).map((c) => actions.find((a) => a.command === c)).filter(Boolean);
      return html`<tr class=${`${o.status === 'overdue' ? 'row-overdue' : ''} ${here ? 'row-current' : ''}`} ref=${here ? focused : null} tabindex=${here ? '-1' : undefined} aria-current=${here ? 'step' : undefined}>
        <th scope="row">${humanise(o.kind)}</th><td>${melbourne(o.due)}${o.extended ? ' (extended)' : ''}</td><td>${deadline(o)}</td>
        <td><span class=${`tag tag-${o.status}`}>${humanise(o.status)}</span>${o.recorded_late ? ' (recorded late)' : ''}</td>
        <td>${o.met_at ? melbourne(o.met_at) : '—'}</td>
        <td>${['open', 'overdue'].includes(o.status) ? by.map((a) => html`<button type="button" class="link-button" onClick=${() => onOpen(a)}>${a.title}</button> `) : null}</td></tr>`;
    })}</tbody></table></div>`;
}

function CommandForm({ action, doc, incident, onDone, onCancel }) {
  const components = doc.components.schemas;
  const schema = components[action.schema];
  const [value, setValue] = useState(() => initial(schema, components));
  const [errors, setErrors] = useState([]);
  const [conflict, setConflict] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef(null);
  useEffect(() => { heading.current?.focus(); }, [action.command]);
  const send = async (version) => {
    setBusy(true);
    try {
      const accepted = await command(action.href, toBody(schema, value, components), { version, key: newKey() });
      onDone(accepted);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 412)) {
        const now = await get(`/v1/incidents/${incident.id}`);
        const trail = await get(`/v1/incidents/${incident.id}/audit-trail`, { after: 0, limit: 500 }).catch(() => ({ items: [] }));
        setConflict({ from: version, now, changes: trail.items.filter((t) => t.version > version) });
        setErrors([]);
      } else setErrors(await explain(err));
    } finally { setBusy(false); }
  };
  const submit = (e) => {
    e.preventDefault();
    const found = validate(schema, value, components);
    setErrors(found);
    if (!found.length) send(conflict ? conflict.now.version : incident.version);
  };
  return html`<section class="panel" aria-labelledby="command-title">
    <h2 id="command-title" tabindex="-1" ref=${heading}>${action.title}</h2>
    ${action.meets?.length ? html`<p class="hint">Meets: ${action.meets.map(humanise).join(', ')}</p>` : null}
    <${ErrorSummary} errors=${errors} />
    ${conflict ? html`<div class="warning" role="alert"><h3>This incident has changed since you opened it</h3>
      <p>You were working on version ${conflict.from}; it is now at version ${conflict.now.version}. What changed:</p>
      <ul>${conflict.changes.map((c) => html`<li>Version ${c.version}: ${c.summary || humanise(c.event_type)} — ${c.actor_id} (${humanise(c.actor_role).toLowerCase()}, ${c.actor_organisation}), ${melbourne(c.recorded_at)}</li>`)}</ul>
      <p>Check your entry still makes sense, then submit it again on version ${conflict.now.version}.</p></div>` : null}
    <form onSubmit=${submit} noValidate>
      <${SchemaFields} schema=${schema} components=${components} value=${value} onChange=${setValue} errors=${errors} />
      <div class="button-group">
        <button type="submit" class="button" disabled=${busy}>${conflict ? `Submit again on version ${conflict.now.version}` : action.title}</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form></section>`;
}

function Timeline({ items, docs }) {
  if (!items.length) return html`<p>No events yet.</p>`;
  return html`<ol class="timeline">${items.map((t) => html`<li>
    <p class="timeline-title"><strong>${t.summary || humanise(t.event_type)}</strong> <span class="tag">version ${t.version}</span></p>
    <p class="timeline-meta">${melbourne(t.recorded_at)}${t.effective_at ? ` (effective ${melbourne(t.effective_at)})` : ''} · ${t.actor_id}, ${humanise(t.actor_role).toLowerCase()}, ${t.actor_organisation}</p>
    ${t.reason ? html`<p class="timeline-reason">Reason: ${t.reason}</p>` : null}
    ${docs ? html`<${DocumentLinks} docs=${docs} version=${t.version} />` : null}</li>`)}</ol>`;
}

const VERDICT = { pass: ['✓', 'Met'], fail: ['✗', 'Not met'], pending: ['…', 'Pending'], met_late_with_extension: ['✓', 'Met late, with an extension'], not_applicable: ['–', 'Not applicable'] };

function Fairness({ checks }) {
  if (!checks.length) return html`<p>No procedural-fairness checks apply to this incident yet.</p>`;
  return html`<ul class="checklist">${checks.map((c) => {
    const [mark, said] = VERDICT[c.verdict] || ['?', humanise(c.verdict)];
    return html`<li class=${`check-${c.verdict}`}>
      <span class="check-mark" aria-hidden="true">${mark}</span>
      <span><strong>${humanise(c.check)}</strong>: ${said}${c.detail ? ` — ${withMelbourneTimes(c.detail)}` : ''}${c.evidence_versions?.length ? ` (evidence: version ${c.evidence_versions.join(', ')})` : ''}</span></li>`;
  })}</ul>`;
}

export function IncidentPage({ id, step, who }) {
  const [incident, setIncident] = useState(null);
  const [doc, setDoc] = useState(null);
  const [trail, setTrail] = useState([]);
  const [checks, setChecks] = useState([]);
  const [reads, setReads] = useState(null);
  const [open, setOpen] = useState(null);
  const [notice, setNotice] = useState(null);
  const [error, setError] = useState(null);
  const docs = useDocuments(id, incident?.version);
  const load = async (position) => {
    try {
      const [inc, d] = await Promise.all([get(`/v1/incidents/${id}`), openapi()]);
      setIncident(inc); setDoc(d);
      const at = position ? { min_position: position } : {};
      get(`/v1/incidents/${id}/audit-trail`, { limit: 500, ...at }).then((r) => setTrail(r.items)).catch(() => setTrail([]));
      get(`/v1/incidents/${id}/procedural-fairness`, at).then((r) => setChecks(r.checks)).catch(() => setChecks([]));
      // Only auditors and department officers may read the access log: asking for anyone else
      // would be refused, and the refusal itself recorded, on every visit.
      if (READS_LOG.has(session.identity?.role)) {
        get('/v1/access-log', { incident_id: id, limit: 50 }).then((r) => setReads(r.items)).catch(() => setReads(null));
      }
      return [inc, d];
    } catch (e) {
      // A 422 here is the path's id itself: not an incident id (a short one, a typo).
      setError(e.status === 422 ? `'${id}' is not an incident id: open the incident from the worklist or the incident list.` : e.message);
      return [null, null];
    }
  };
  useEffect(() => {
    load().then(([inc, d]) => {
      if (!inc || !step) return;
      const wanted = inc.obligations.find((o) => o.kind === step);
      const actions = actionsOf(inc, d, id);
      const by = (wanted?.met_by || []).map((c) => actions.find((a) => a.command === c)).find(Boolean);
      if (by && ['open', 'overdue'].includes(wanted.status)) setOpen(by);
    });
  }, [id, step]);
  if (error) return html`<h1 tabindex="-1">Incident</h1><div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>`;
  if (!incident || !doc) return html`<h1 tabindex="-1">Incident</h1><p role="status">Loading…</p>`;
  const actions = actionsOf(incident, doc, id);
  const done = (accepted) => {
    setNotice(`${open.title}: recorded as version ${accepted.version}.`);
    setOpen(null);
    load(accepted.position);
  };
  const auditor = ['auditor', 'department_officer'].includes(who.role);
  return html`<h1 tabindex="-1">${(incident.types || []).join(', ')} <span class="caption">incident ${id.slice(0, 8)}</span></h1>
    ${notice ? html`<div class="notice" role="status">${notice}</div>` : null}
    ${incident.integrity?.chain === 'broken' ? html`<div class="error-summary" role="alert"><h2>This record is not intact</h2>
      <p>Its stored history was changed outside the ledger (from version ${incident.integrity.first_broken_version}: ${incident.integrity.problem}). It is shown as it is stored now, which may not be what was recorded. Tell the department's auditors.</p></div>` : null}
    <div class="tags"><span class="tag">${humanise(incident.stage)}</span> <span class="tag">${humanise(incident.impact)}</span> <span class="tag">version ${incident.version}</span>
      ${auditor ? html` <a href=${`#/incidents/${id}/audit`}>Open the auditor's view</a>` : null}</div>
    <div class="two-col"><section aria-labelledby="h-summary"><h2 id="h-summary">Details</h2><${Summary} incident=${incident} /></section>
    <section aria-labelledby="h-actions"><h2 id="h-actions">What you can do next</h2>
      ${actions.length ? html`<ul class="actions">${actions.map((a) => html`<li><button type="button" class="button secondary"
        aria-expanded=${open?.command === a.command ? 'true' : 'false'} onClick=${() => setOpen(a)}>${a.title}</button></li>`)}</ul>`
        : html`<p>Nothing for you to do on this incident now.</p>`}</section></div>
    ${open ? html`<${CommandForm} key=${open.command} action=${open} doc=${doc} incident=${incident} onDone=${done} onCancel=${() => setOpen(null)} />` : null}
    <section aria-labelledby="h-obligations"><h2 id="h-obligations">Obligations</h2>
      <${Obligations} items=${incident.obligations || []} step=${step} actions=${actions} onOpen=${setOpen} /></section>
    <section aria-labelledby="h-fairness"><h2 id="h-fairness">Procedural fairness</h2><${Fairness} checks=${checks} />
      <${FairnessDocuments} docs=${docs} /></section>
    <${DocumentsPanel} id=${id} incident=${incident} docs=${docs} trail=${trail} onAdded=${(accepted) => { setNotice(`Document added: recorded as version ${accepted.version}.`); load(accepted.position); }} />
    <section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2><${Timeline} items=${trail} docs=${docs} /></section>
    ${reads ? html`<section aria-labelledby="h-reads"><h2 id="h-reads">Audit trail: who read this record</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label="Record reads"><table class="table"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th></tr></thead>
      <tbody>${reads.map((r) => html`<tr><td>${melbourne(r.at)}</td><td>${r.actor_id} (${humanise(r.actor_role).toLowerCase()}, ${r.actor_organisation})</td><td>${humanise(r.what)}</td></tr>`)}</tbody></table></div></section>` : null}`;
}
