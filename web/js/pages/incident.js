// Incident: header, obligations, the commands this caller may issue next (each opening its
// form, generated from the request schema), the timeline, the fairness checklist and the audit
// trail. A 409/412 shows what changed since the page was loaded and offers a retry on the new
// version.
import { html, useEffect, useRef, useState } from '../html.js';
import { ApiError, command, explain, get, newKey, openapi, session } from '../api.js';
import { ErrorSummary, SchemaFields, initial, placed, resolve, toBody, validate } from '../form.js';
import {
  deadline, humanise, learnVocabulary, melbourne, melbourneDay, term, toMelbourneInput, withMelbourneTimes,
} from '../format.js';
import { Facts } from '../facts.js';
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

const list = (items) => (items.length ? items.join('; ') : '—');

/** What the access log says was read, in words: "list:incidents" is the incidents as a list,
 * "command:add-document" a read made to check a step. */
export function whatWasRead(what) {
  const [kind, rest] = String(what).split(':');
  if (rest && kind === 'list') return `${humanise(rest)} (in a list)`;
  if (rest && kind === 'command') return `${humanise(rest)} (checked for a step)`;
  return humanise(what);
}

function Summary({ incident }) {
  const d = incident.details || {};
  const stages = incident.consulted_stages || [];
  const consulted = (incident.consultations || []).map((body, i) => {
    const [stage, at] = stages[i] || [];
    return `${term('ConsultedBody', body)}${stage ? `, before ${term('ConsultationStage', stage).replace(/^Before /, '').replace(/\.$/, '').toLowerCase()}` : ''}${at ? ` (${melbourne(at)})` : ''}`;
  });
  const notified = Object.entries(incident.notified || {}).map(([kind, at]) => `${term('NotificationKind', kind)} (${melbourne(at)})`);
  const findings = (incident.outcomes || []).map((o) => `${o.subject_ref || 'No subject of allegation identified'}, ${o.incident_type}: ${term('Finding', o.finding)}${o.rationale ? `. Rationale: ${o.rationale}` : ''}`);
  const actioned = new Set(incident.actioned || []);
  const recommendations = (incident.recommendations || []).map((r) => `${r.id}: ${r.text} (${actioned.has(r.id) ? 'actioned' : 'not yet actioned'})`);
  // How and when each subject was served (a legacy record's own words, as it was written).
  const served = (incident.served || []).map((ref) => {
    const how = (incident.service || {})[ref];
    if (!how) return ref;
    const method = String(how.method || '').startsWith('legacy') ? String(how.method).replace(/^legacy:\s*/, '') : term('ServiceMethod', how.method).replace(/ \(.*\)$/, '').toLowerCase();
    return `${ref}: ${method}, ${melbourne(how.served_at)}`;
  });
  const responded = (incident.responded || []).map((ref) => ((incident.responded_at || {})[ref] ? `${ref} (${melbourne(incident.responded_at[ref])})` : ref));
  const told = (incident.communicated || []).map((c) => `${c.ref} (${term('Recipient', c.recipient).toLowerCase()})`);
  const pending = incident.review_pending;
  const review = pending ? `Asked for by ${pending.ref} (${term('Requester', pending.requester).replace(/ \(.*\)$/, '').toLowerCase()}); not yet decided${incident.reviews_decided ? `. Decided before: ${incident.reviews_decided}` : ''}`
    : incident.reviews_decided ? `${incident.reviews_decided} decided (see the timeline)` : '—';
  const scope = incident.in_scope === true ? 'In CIMS scope' : incident.in_scope === false ? `Out of CIMS scope: ${term('ScopeExclusion', incident.exclusion)}` : '—';
  const short = (other) => html`<a href=${`#/incidents/${other}`}>incident ${String(other).slice(0, 8)}</a>`;
  const links = (ids) => (ids.length ? ids.map((other, i) => html`${i ? ', ' : ''}${short(other)}`) : '—');
  const imported = incident.imported;
  const rows = [
    ['Incident', incident.id], ['Organisation', incident.reporting_organisation], ['Reported by', incident.reporter_id || '—'],
    ['Types', (incident.types || []).join(', ')], ['Impact', humanise(incident.impact)],
    ['Stage', humanise(incident.stage)], ['Version', String(incident.version)],
    ['Reported', melbourne(incident.reported_at)], ['Became aware', melbourne(d.became_aware_at)],
    ['Occurred', d.occurred_at ? melbourne(d.occurred_at) : d.occurred_between ? `${melbourne(d.occurred_between.start)} to ${melbourne(d.occurred_between.end)}` : '—'],
    ['Program', term('Program', incident.program)], ['Care context', term('CareContext', incident.care_context)],
    ['Regulator category', term('RegulatorCategory', incident.regulator_category)],
    ['Clients', list((incident.clients || []).map((c) => `${c.ref}: ${c.aboriginal ? 'Aboriginal' : 'not Aboriginal'}${c.date_of_birth ? `, born ${melbourneDay(c.date_of_birth)}` : ''}${c.department_client_id ? `, department client ID ${c.department_client_id}` : ''}`))],
    ['Guardians', list((incident.guardians || []).map((g) => `${g.ref}, ${term('GuardianRelationship', g.relationship).toLowerCase()} of ${g.client_ref}`))],
    ['Subjects of allegation', (incident.subjects || []).map((s) => `${s.ref} (${humanise(s.role).toLowerCase()})`).join(', ') || '—'],
    ['Other provider responsible', d.other_provider || '—'], ['Historical', d.historical ? 'Yes' : 'No'],
    ['Investigator', incident.investigator ? `${incident.investigator.subject} (${incident.investigator.organisation})` : incident.investigator_ref || '—'], ['Location', d.location], ['Description', d.description],
    ['Immediate actions', d.immediate_actions || '—'],
    ['Follow-up', incident.follow_up ? term('FollowUpKind', incident.follow_up) : '—'],
    ['Notifications', list(notified)], ['Aboriginal consultations', list(consulted)],
    ['Investigation plan', incident.plan_recorded ? 'Recorded (see the timeline)' : '—'],
    ['Scope', scope], ['Withdrawn', incident.withdrawn ? (incident.withdrawal ? term('WithdrawalCategory', incident.withdrawal) : 'Yes') : '—'],
    ['Department review', incident.department_review ? term('ReviewDecision', incident.department_review) : '—'],
    ["Client's voice", incident.client_voices ? `Recorded ${incident.client_voices === 1 ? 'once' : `${incident.client_voices} times`} (see the timeline)` : '—'],
    ['Allegations served', list(served)], ['Subjects who responded', list(responded)],
    ['Evidence', incident.evidence_count ? `${incident.evidence_count} item${incident.evidence_count === 1 ? '' : 's'} (see the timeline)` : '—'],
    ['Sufficient-evidence rationale', incident.sufficient_evidence_rationale || '—'],
    ['Findings', list(findings)], ['Recommendations', list(recommendations)],
    ['Told the outcome', list(told)], ['Outcome review', review],
    ['Outcome reviewer', incident.outcome_reviewer ? `${incident.outcome_reviewer.subject} (${incident.outcome_reviewer.organisation})` : '—'],
    ['Response plan', incident.response_plan_recorded ? 'Recorded (see the timeline)' : '—'],
    ['Carer support plans', list(incident.carer_support_plans || [])],
    ['Deadlines extended', list(Object.entries(incident.extensions || {}).map(([kind, due]) => `${humanise(kind)}, to ${melbourne(due)}`))],
    ['Corrections', list((incident.corrections || []).map((v) => `version ${v} corrected`))],
    ['RCS investigation report', incident.rcs_endorsed ? 'Endorsed by the Integrity team' : '—'],
    ['Escalated from', links(incident.pattern_of || [])],
    ['Escalated as a pattern of harm', incident.linked_to_pattern ? short(incident.linked_to_pattern) : '—'],
    ['Possible pattern dismissed', (incident.pattern_dismissals || []).length ? `${incident.pattern_dismissals.length === 1 ? 'Once' : `${incident.pattern_dismissals.length} times`} (see the timeline)` : '—'],
    ['Imported from', imported ? `${imported.source_system}, record ${imported.legacy_id}` : '—'],
    ['Legacy types', list(incident.legacy_types || [])],
    ['Legacy types to resolve', list(incident.unresolved_legacy_types || [])],
  ];
  // Only what is recorded: a step not yet taken has no row (the obligations say what is owed).
  const recorded = rows.filter(([, v]) => v !== '—' && v !== '' && v != null);
  return html`<dl class="summary-list">${recorded.map(([k, v]) => html`<div class="summary-row"><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

// Who must act on an obligation the caller cannot meet themselves, from the API's `acted_by`.
function whoActs(o) {
  const by = o.acted_by || [];
  if (!by.length) return 'No step of yours meets this.';
  const said = by.map((b) => `${b.who} must ${b.title.charAt(0).toLowerCase()}${b.title.slice(1).replace(/\.$/, '')}`).join('; or ');
  return `${said.charAt(0).toUpperCase()}${said.slice(1)}.`;
}

/** Move to the timeline entry of a version (a link within the page: the hash is the route). */
export function showVersion(e, version) {
  e.preventDefault();
  const entry = document.getElementById(`v-${version}`);
  if (entry) { entry.scrollIntoView({ block: 'start' }); entry.focus(); }
}

function Obligations({ id, items, step, actions, onOpen }) {
  const focused = useRef(null);
  const extend = actions.find((a) => a.command === 'extend');
  useEffect(() => { focused.current?.focus(); }, [step]);
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="Obligations table"><table class="table cards">
    <caption class="visually-hidden">Obligations with deadlines and status</caption>
    <thead><tr><th scope="col">Obligation</th><th scope="col">Due (Melbourne)</th><th scope="col">Deadline</th><th scope="col">Status</th><th scope="col">Met</th><th scope="col">Next step</th></tr></thead>
    <tbody>${items.map((o) => {
      const here = o.kind === step;
      const by = (o.met_by || []).map((c) => actions.find((a) => a.command === c)).filter(Boolean);
      return html`<tr class=${`${o.status === 'overdue' ? 'row-overdue' : ''} ${here ? 'row-current' : ''}`} ref=${here ? focused : null} tabindex=${here ? '-1' : undefined} aria-current=${here ? 'step' : undefined}>
        <th scope="row">${humanise(o.kind)}</th><td data-label="Due">${melbourne(o.due)}${o.extended ? ' (extended)' : ''}${o.due && o.explanation ? html`<details class="why-date"><summary>Why this date?</summary><p>${o.explanation.text}</p></details>` : null}</td><td data-label="Deadline">${deadline(o)}</td>
        <td data-label="Status"><span class=${`tag tag-${o.status}`}>${humanise(o.status)}</span>${o.recorded_late ? ' (recorded late)' : ''}</td>
        <td data-label="Met">${o.met_at ? melbourne(o.met_at) : '—'}</td>
        <td data-label="Next step">${['open', 'overdue'].includes(o.status) ? html`${by.map((a) => html`<button type="button" class="link-button" onClick=${() => onOpen(a, o.kind)}>${a.title}</button> `)}
          ${by.length ? null : html`<span class="who-acts">${whoActs(o)}</span>`}
          ${extend && o.due ? html` <button type="button" class="link-button" onClick=${() => onOpen(extend, o.kind)}>Extend this deadline</button>` : null}`
          : o.met_by_version ? html`Done: <a href=${`#/incidents/${id}`} onClick=${(e) => showVersion(e, o.met_by_version)}>version ${o.met_by_version}</a>` : null}</td></tr>`;
    })}</tbody></table></div>`;
}

// People and things already on the incident, to pick rather than type (form.js `choices`).
function choicesFor(incident, docs = { items: [] }, trail = [], value = {}) {
  const clients = (incident.clients || []).map((c) => ({ value: c.ref, label: `${c.ref} (client)` }));
  const subjects = (incident.subjects || []).map((x) => ({ value: x.ref, label: `${x.ref} (subject of allegation)` }));
  const guardians = (incident.guardians || []).map((g) => ({ value: g.ref, label: `${g.ref} (guardian of ${g.client_ref})` }));
  const carers = (incident.subjects || []).filter((x) => ['carer', 'kinship_carer'].includes(x.role)).map((x) => ({ value: x.ref, label: x.ref }));
  const done = new Set(incident.actioned || []);
  const recommendations = (incident.recommendations || []).filter((r) => !done.has(r.id)).map((r) => ({ value: r.id, label: `${r.id}: ${r.text}` }));
  const people = [...clients, ...guardians, ...subjects];
  // A document a step rests on, from those on the record; an earlier step, from the timeline.
  const documents = docs.items.filter((d) => !d.superseded).map((d) => ({ value: d.document_id, label: `${d.kind_label.charAt(0).toUpperCase()}${d.kind_label.slice(1)}: ${d.file_name} (version ${d.version})` }));
  const steps = trail.map((t) => ({ value: String(t.version), label: `Version ${t.version}: ${t.summary || humanise(t.type || t.event_type)}` }));
  // Who was told, or who asks, among the people of the kind chosen beside it.
  const ofKind = { client: clients, guardian: guardians, subject_of_allegation: subjects };
  const found = {
    client_ref: clients, subject_ref: subjects, subject_refs: subjects, carer_ref: carers, recommendation_id: recommendations,
    recipient_ref: ofKind[value?.recipient] || people, requester_ref: ofKind[value?.requester] || people,
    document_id: documents, corrected_version: steps,
  };
  return Object.fromEntries(Object.entries(found).filter(([, v]) => v.length));
}

// The consultation stage and notification kind an obligation asks for (the step a worklist
// row was opened at, pre-selected in the form that meets it).
const STAGE_OF = { aboriginal_consultation_follow_up: 'follow_up', aboriginal_consultation_outcome: 'outcome', aboriginal_consultation_closure: 'closure' };
const NOTICE_OF = { police_contact: 'police', regulator_short_form: 'regulator_short_form', integrity_advice: 'integrity_team', ccyp_notice: 'ccyp', ccyp_details: 'ccyp_details' };

const day = (iso) => (iso ? `${+iso.slice(8, 10)}/${+iso.slice(5, 7)}/${iso.slice(0, 4)}` : '');

/** The incident's facts as the amend and correction forms show them to be edited. */
function recordedFacts(incident) {
  const d = incident.details || {};
  return {
    occurred_at: toMelbourneInput(d.occurred_at),
    occurred_between: d.occurred_between ? [toMelbourneInput(d.occurred_between.start), toMelbourneInput(d.occurred_between.end)] : ['', ''],
    became_aware_at: toMelbourneInput(d.became_aware_at),
    location: d.location ?? '', description: d.description ?? '', immediate_actions: d.immediate_actions ?? '', other_provider: d.other_provider ?? '',
    clients: (incident.clients || []).map((c) => ({ ref: c.ref, aboriginal: !!c.aboriginal, date_of_birth: day(c.date_of_birth), department_client_id: c.department_client_id ?? '' })),
    subjects_of_allegation: (incident.subjects || []).map((x) => ({ ref: x.ref, role: x.role, line_manager_ref: x.line_manager_ref ?? '' })),
  };
}

/** What a form sends: of the facts it started from (`changes`), only those changed. */
function changedOnly(body, start) {
  if (!body.changes || !start.changes) return body;
  const changes = Object.fromEntries(Object.entries(body.changes)
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(start.changes[k])));
  return { ...body, changes };
}

/** A command form's first value: the incident's current classification (a reclassification
 * starts from it), and what the step it was opened for needs. */
function startingValue(schema, components, incident, step) {
  const value = initial(schema, components);
  const props = resolve(schema, components)[0].properties || {};
  for (const k of ['types', 'impact', 'regulator_category']) if (k in props && incident[k] != null) value[k] = structuredClone(incident[k]);
  // Amending or correcting the facts starts from them as they stand: a list (the clients, the
  // subjects) is replaced whole, so it must start with everyone already on it.
  if (props.changes && value.changes) {
    const shown = recordedFacts(incident);
    for (const k of Object.keys(value.changes)) if (k in shown) value.changes[k] = shown[k];
  }
  if (step && 'obligation_kind' in props) value.obligation_kind = step;
  if (step && 'stage' in props && STAGE_OF[step]) value.stage = STAGE_OF[step];
  if (step && 'kind' in props && NOTICE_OF[step] && (resolve(props.kind, components)[0].enum || []).includes(NOTICE_OF[step])) value.kind = NOTICE_OF[step];
  return value;
}

function CommandForm({ action, doc, incident, step, preset, docs, trail, onDone, onCancel }) {
  const components = doc.components.schemas;
  const schema = components[action.schema];
  // What the button that opened the form already said (the document to supersede).
  const fixed = preset?.value || {};
  const [start] = useState(() => ({ ...startingValue(schema, components, incident, step), ...fixed }));
  const [value, setValue] = useState(start);
  const open = new Set((incident.obligations || []).filter((o) => ['open', 'overdue'].includes(o.status)).map((o) => o.kind));
  const only = { incident_type: incident.types || [], obligation_kind: [...open] };
  const late = (action.leaves_late || []).map((k) => (incident.obligations || []).find((o) => o.kind === k)).filter(Boolean);
  const [errors, setErrors] = useState([]);
  const [conflict, setConflict] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef(null);
  useEffect(() => { heading.current?.focus(); }, [action.command]);
  const send = async (version) => {
    setBusy(true);
    try {
      const body = changedOnly(toBody(schema, value, components), toBody(schema, start, components));
      const accepted = await command(action.href, body, { version, key: newKey() });
      onDone(accepted);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 412)) {
        const now = await get(`/v1/incidents/${incident.id}`);
        const trail = await get(`/v1/incidents/${incident.id}/audit-trail`, { limit: 500 }).catch(() => ({ items: [] }));
        setConflict({ from: version, now, changes: trail.items.filter((t) => t.version > version) });
        setErrors([]);
      } else setErrors(placed(await explain(err), schema, components));
    } finally { setBusy(false); }
  };
  const submit = (e) => {
    e.preventDefault();
    const found = validate(schema, value, components);
    setErrors(found);
    if (!found.length) send(conflict ? conflict.now.version : incident.version);
  };
  return html`<section class="panel no-print" aria-labelledby="command-title">
    <h2 id="command-title" tabindex="-1" ref=${heading}>${action.title}</h2>
    ${action.meets?.length ? html`<p class="hint">Meets: ${action.meets.map(humanise).join(', ')}</p>` : null}
    ${preset?.said ? html`<p>${preset.said}</p>` : null}
    ${late.length ? html`<div class="warning" role="note"><h3>Recording this now leaves a step late</h3>
      <ul>${late.map((o) => html`<li>${humanise(o.kind)} (${deadline(o)}) is owed before this decision: recording it now makes it overdue. Record the consultation first if you can.</li>`)}</ul></div>` : null}
    <${ErrorSummary} errors=${errors} />
    ${conflict ? html`<div class="warning" role="alert"><h3>This incident has changed since you opened it</h3>
      <p>You were working on version ${conflict.from}; it is now at version ${conflict.now.version}. What changed:</p>
      <ul>${conflict.changes.map((c) => html`<li>Version ${c.version}: ${c.summary || humanise(c.event_type)} — ${c.actor_id} (${humanise(c.actor_role).toLowerCase()}, ${c.actor_organisation}), ${melbourne(c.recorded_at)}</li>`)}</ul>
      <p>Check your entry still makes sense, then submit it again on version ${conflict.now.version}.</p></div>` : null}
    <form onSubmit=${submit} noValidate>
      <${SchemaFields} schema=${schema} components=${components} value=${value} onChange=${setValue} errors=${errors}
        choices=${choicesFor(incident, docs, trail, value)} only=${only} omit=${Object.keys(fixed)} />
      <div class="button-group">
        <button type="submit" class="button" disabled=${busy}>${conflict ? `Submit again on version ${conflict.now.version}` : action.title}</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel<span class="visually-hidden"> (or press Escape)</span></button>
      </div>
    </form></section>`;
}

// The report's own facts are in Details above; every later entry shows what it recorded.
const SHOWN_ABOVE = new Set(['Reported']);

function Timeline({ items, docs }) {
  if (!items.length) return html`<p>No events yet.</p>`;
  return html`<ol class="timeline">${items.map((t) => {
    const actor = t.actor || { id: t.actor_id, role: t.actor_role, organisation: t.actor_organisation };
    return html`<li id=${`v-${t.version}`} tabindex="-1">
    <p class="timeline-title"><strong>${t.summary || humanise(t.type || t.event_type)}</strong> <span class="tag">version ${t.version}</span></p>
    <p class="timeline-meta">${melbourne(t.recorded_at)}${t.effective_at ? ` (effective ${melbourne(t.effective_at)})` : ''} · ${actor.id}, ${humanise(actor.role).toLowerCase()}, ${actor.organisation}</p>
    ${t.reason ? html`<p class="timeline-reason">Reason: ${t.reason}</p>` : null}
    ${t.data && !SHOWN_ABOVE.has(t.type) ? html`<${Facts} data=${t.data} />` : null}
    ${docs ? html`<${DocumentLinks} docs=${docs} version=${t.version} />` : null}</li>`;
  })}</ol>`;
}

// Each verdict's mark (what it says is the API vocabulary's `Verdict`).
const MARK = { pass: '✓', fail: '✗', pending: '…', warn: '!', met_late_with_extension: '✓', not_applicable: '–' };

function Fairness({ id, checks }) {
  if (!checks.length) return html`<p>No procedural-fairness checks apply to this incident yet.</p>`;
  return html`<ul class="checklist">${checks.map((c) => {
    const mark = MARK[c.verdict] || '?';
    const said = term('Verdict', c.verdict).replace(/:.*$/, '');
    return html`<li class=${`check-${c.verdict}`}>
      <span class="check-mark" aria-hidden="true">${mark}</span>
      <span><strong>${humanise(c.check)}</strong>: ${said}${c.detail ? ` — ${withMelbourneTimes(c.detail)}` : ''}${c.evidence_versions?.length
        ? html` (evidence: ${c.evidence_versions.map((v, i) => html`${i ? ', ' : ''}<a href=${`#/incidents/${id}`} onClick=${(e) => showVersion(e, v)}>version ${v}</a>`)})` : ''}</span></li>`;
  })}</ul>`;
}

// Whether what an action records is already done: every obligation it meets is settled, and at
// least one was met (a form offered again is marked so, with the version that did it).
function doneBy(action, obligations) {
  const mine = obligations.filter((o) => (o.met_by || []).includes(action.command));
  if (!mine.length || mine.some((o) => ['open', 'overdue'].includes(o.status))) return null;
  return mine.find((o) => o.met_by_version)?.met_by_version ?? null;
}

// The last version at which the step an action records was taken (the API's `records`), if it
// was: a step that may be taken again (another client's voice, another notice) says so.
function lastRecorded(action, trail) {
  if (!action.records) return null;
  const taken = trail.filter((t) => (t.type || t.event_type) === action.records);
  return taken.length ? taken[taken.length - 1].version : null;
}

// Actions offered beside what they act on rather than in the list (a document is superseded
// from the document's own entry).
const ELSEWHERE = new Set(['supersede-document']);

export function IncidentPage({ id, step, who }) {
  const [incident, setIncident] = useState(null);
  const [doc, setDoc] = useState(null);
  const [trail, setTrail] = useState([]);
  const [checks, setChecks] = useState([]);
  const [reads, setReads] = useState(null);
  const [open, setOpenState] = useState(null); // {action, step, preset}
  const [notice, setNotice] = useState(null);
  const [error, setError] = useState(null);
  const noticeBox = useRef(null);
  const opener = useRef(null);
  const docs = useDocuments(id, incident?.version);
  const load = async (position) => {
    try {
      const [inc, d] = await Promise.all([get(`/v1/incidents/${id}`), openapi()]);
      learnVocabulary(d);
      setIncident(inc); setDoc(d);
      const at = position ? { min_position: position } : {};
      // What each step recorded (from the store, so always current); the read model's trail
      // only if the record cannot be read.
      get(`/v1/incidents/${id}/record`).then((r) => setTrail(r.items))
        .catch(() => get(`/v1/incidents/${id}/audit-trail`, { limit: 500, ...at }).then((r) => setTrail(r.items)).catch(() => setTrail([])));
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
  // Opening a form clears the last confirmation (it was about another step) and remembers
  // where focus was, to return it there when the form is closed.
  // Whether a form is open now, as a key pressed the moment it opens finds it (state is read
  // on the next render).
  const formOpen = useRef(false);
  const setOpen = (action, kind = null, preset = null) => {
    opener.current = document.activeElement;
    setNotice(null);
    formOpen.current = !!action;
    setOpenState(action ? { action, step: kind, preset } : null);
  };
  const close = () => {
    formOpen.current = false;
    setOpenState(null);
    const back = opener.current;
    setTimeout(() => (back?.isConnected ? back : document.getElementById('h-actions'))?.focus(), 0);
  };
  // Escape closes the open form, as Cancel does, wherever focus is on the page: pressed before
  // focus has reached a form just opened, it still closes it.
  const closeNow = useRef(close);
  closeNow.current = close;
  useEffect(() => {
    const onKey = (e) => { if (e.key === 'Escape' && formOpen.current) { e.preventDefault(); closeNow.current(); } };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    load().then(([inc, d]) => {
      if (!inc || !step) return;
      const wanted = inc.obligations.find((o) => o.kind === step);
      const actions = actionsOf(inc, d, id);
      const by = (wanted?.met_by || []).map((c) => actions.find((a) => a.command === c)).find(Boolean);
      if (by && ['open', 'overdue'].includes(wanted.status)) { formOpen.current = true; setOpenState({ action: by, step }); }
    });
  }, [id, step]);
  // A confirmation is brought into view and focused, so it is seen and heard.
  useEffect(() => {
    if (notice && noticeBox.current) { noticeBox.current.scrollIntoView({ block: 'center' }); noticeBox.current.focus(); }
  }, [notice]);
  if (error) return html`<h1 tabindex="-1">Incident</h1><div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>`;
  if (!incident || !doc) return html`<h1 tabindex="-1">Incident</h1><p role="status">Loading…</p>`;
  const actions = actionsOf(incident, doc, id);
  const listed = actions.filter((a) => !ELSEWHERE.has(a.command));
  const supersede = actions.find((a) => a.command === 'supersede-document');
  const obligations = incident.obligations || [];
  const done = (accepted) => {
    setNotice(`${open.action.title}: recorded as version ${accepted.version}.`);
    formOpen.current = false;
    setOpenState(null);
    load(accepted.position);
  };
  const auditor = ['auditor', 'department_officer'].includes(who.role);
  return html`<h1 tabindex="-1">${(incident.types || []).join(', ')} <span class="caption">incident ${id.slice(0, 8)}</span></h1>
    ${notice ? html`<div class="notice" role="status" tabindex="-1" ref=${noticeBox}>${notice}</div>` : null}
    ${incident.integrity?.chain === 'broken' ? html`<div class="error-summary" role="alert"><h2>This record is not intact</h2>
      <p>Its stored history was changed outside the ledger (from version ${incident.integrity.first_broken_version}: ${incident.integrity.problem}). It is shown as it is stored now, which may not be what was recorded. Tell the department's auditors.</p></div>` : null}
    <div class="tags"><span class="tag">${humanise(incident.stage)}</span> <span class="tag">${term('Impact', incident.impact).split(':')[0]}</span> <span class="tag">version ${incident.version}</span>
      ${auditor ? html` <a class="no-print" href=${`#/incidents/${id}/audit`}>Open the auditor's view</a>` : null}</div>
    <div class="two-col"><section aria-labelledby="h-summary"><h2 id="h-summary">Details</h2><${Summary} incident=${incident} /></section>
    <section aria-labelledby="h-actions" class="no-print"><h2 id="h-actions" tabindex="-1">What you can do next</h2>
      ${listed.length ? html`<ul class="actions">${listed.map((a) => {
        const did = doneBy(a, obligations);
        const last = did ? null : lastRecorded(a, trail);
        return html`<li><button type="button" class="button secondary"
        aria-expanded=${open?.action.command === a.command ? 'true' : 'false'} onClick=${() => setOpen(a)}>${a.title}${did ? html`<span class="visually-hidden"> (already done)</span>` : last ? html`<span class="visually-hidden"> (last recorded at version ${last})</span>` : null}</button>
        ${did ? html`<span class="done-mark">Done: <a href=${`#/incidents/${id}`} onClick=${(e) => showVersion(e, did)}>version ${did}</a></span>`
          : last ? html`<span class="done-mark">Last recorded: <a href=${`#/incidents/${id}`} onClick=${(e) => showVersion(e, last)}>version ${last}</a></span>` : null}</li>`;
      })}</ul>`
        : html`<p>Nothing for you to do on this incident now.</p>`}</section></div>
    ${open ? html`<${CommandForm} key=${`${open.action.command}-${open.step}-${open.preset?.value?.document_id || ''}`} action=${open.action} step=${open.step} preset=${open.preset}
      docs=${docs} trail=${trail} doc=${doc} incident=${incident} onDone=${done} onCancel=${close} />` : null}
    <section aria-labelledby="h-obligations"><h2 id="h-obligations">Obligations</h2>
      <${Obligations} id=${id} items=${obligations} step=${step} actions=${actions} onOpen=${setOpen} /></section>
    <section aria-labelledby="h-fairness"><h2 id="h-fairness">Procedural fairness</h2><${Fairness} id=${id} checks=${checks} />
      <${FairnessDocuments} docs=${docs} /></section>
    <${DocumentsPanel} id=${id} incident=${incident} docs=${docs} trail=${trail} onAdded=${(accepted) => { setNotice(`Document added: recorded as version ${accepted.version}.`); load(accepted.position); }}
      onSupersede=${supersede ? (d) => setOpen(supersede, null, { value: { document_id: d.document_id }, said: `Document: ${d.kind_label}, ${d.file_name} (added at version ${d.version})` }) : null} />
    <section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2><${Timeline} items=${trail} docs=${docs} /></section>
    ${reads ? html`<section aria-labelledby="h-reads"><h2 id="h-reads">Audit trail: who read this record</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label="Record reads"><table class="table cards"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th></tr></thead>
      <tbody>${reads.map((r) => html`<tr><td data-label="When">${melbourne(r.at)}</td><td data-label="Who">${r.actor_id} (${humanise(r.actor_role).toLowerCase()}, ${r.actor_organisation})</td><td data-label="What">${whatWasRead(r.what)}</td></tr>`)}</tbody></table></div></section>` : null}`;
}
