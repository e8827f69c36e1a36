// Worklist: my organisation's obligations, overdue first, filtered by kind, status and client;
// each row opens its incident at the step it needs.
import { html, useEffect, useRef, useState } from '../html.js';
import { get, openapi } from '../api.js';
import { navigate } from '../nav.js';
import { deadline, humanise, melbourne } from '../format.js';

const STATUSES = [['', 'Needs action'], ['overdue', 'Overdue'], ['open', 'Open'], ['met', 'Met'], ['met_late', 'Met late'], ['not_required', 'Not required'], ['all', 'All']];

export function Worklist({ params }) {
  const [filters, setFilters] = useState({ status: params.get('status') || '', kind: params.get('kind') || '', client: params.get('client') || '' });
  const [rows, setRows] = useState(null);
  const [more, setMore] = useState(null);
  const [kinds, setKinds] = useState([]);
  const [error, setError] = useState(null);

  // "Needs action" is the API's own default (open or overdue, overdue first); `more` is
  // {i, cursor}: where the next page starts (query i of them, at that cursor).
  const queries = (f) => [f.status === '' ? 'needs_action' : f.status];
  const load = async (f, from = { i: 0, cursor: undefined }) => {
    const list = queries(f);
    const found = [];
    let at = from;
    while (at && found.length < 50) {
      const page = await get('/v1/obligations', { status: list[at.i], kind: f.kind, client: f.client, cursor: at.cursor, limit: 50 });
      found.push(...page.items);
      if (page.next_cursor) at = { i: at.i, cursor: page.next_cursor };
      else at = at.i + 1 < list.length ? { i: at.i + 1, cursor: undefined } : null;
    }
    return [found, at];
  };
  useEffect(() => {
    // Every obligation kind the API names; until then, the kinds seen in the rows.
    openapi().then((d) => {
      const named = d?.components?.schemas?.ObligationKind?.enum;
      if (named) setKinds([...named]);
    }).catch(() => {});
  }, []);
  useEffect(() => {
    let current = true; // an answer to filters since replaced is dropped
    setRows(null);
    load(filters).then(([found, next]) => {
      if (!current) return;
      setRows(found); setMore(next);
      setKinds((k) => [...new Set([...k, ...found.map((r) => r.kind)])].sort());
    }).catch((e) => current && setError(e.message));
    return () => { current = false; };
  }, [filters]);
  // What the form shows is its own state, so a page of rows arriving never resets a field.
  const [draft, setDraft] = useState(filters);
  const edit = (name) => (e) => setDraft({ ...draft, [name]: e.target.value });
  // The address holds the filters: when it changes (applied, back, a bookmark), so does the list.
  const asked = params.toString();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    const f = { status: params.get('status') || '', kind: params.get('kind') || '', client: params.get('client') || '' };
    setFilters(f); setDraft(f);
  }, [asked]);
  // Filters are kept in the address, so a view can be bookmarked and shared.
  const apply = (e) => {
    e.preventDefault();
    const chosen = { ...draft, client: draft.client.trim() };
    const q = new URLSearchParams(Object.entries(chosen).filter(([, v]) => v)).toString();
    if (`#/worklist${q ? `?${q}` : ''}` === window.location.hash) setFilters(chosen);
    else navigate(`#/worklist${q ? `?${q}` : ''}`);
  };
  const loadMore = () => load(filters, more).then(([found, next]) => { setRows([...rows, ...found]); setMore(next); }).catch((e) => setError(e.message));

  return html`<h1 tabindex="-1">Worklist</h1>
    <p class="lede">Your organisation's obligations under the CIMS policy, overdue first.</p>
    <form class="filters" onSubmit=${apply} aria-label="Filter the worklist">
      <div class="form-group"><label for="wl-status">Status</label>
        <select id="wl-status" name="status" value=${draft.status} onChange=${edit('status')}>${STATUSES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select></div>
      <div class="form-group"><label for="wl-kind">Obligation</label>
        <select id="wl-kind" name="kind" value=${draft.kind} onChange=${edit('kind')}><option value="">Any obligation</option>
          ${kinds.map((k) => html`<option value=${k}>${humanise(k)}</option>`)}</select></div>
      <div class="form-group"><label for="wl-client">Client reference</label>
        <input id="wl-client" name="client" type="text" value=${draft.client} onInput=${edit('client')} /></div>
      <button type="submit" class="button">Apply filters</button>
    </form>
    ${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>` : null}
    ${rows === null ? html`<p role="status">Loading…</p>` : rows.length === 0 ? html`<p role="status">Nothing matches these filters.</p>` : html`
    <div class="table-wrap" tabindex="0" role="region" aria-label="Obligations">
    <table class="table cards">
      <caption class="visually-hidden">Obligations, overdue first</caption>
      <thead><tr><th scope="col">Obligation</th><th scope="col">Incident</th><th scope="col">Client</th><th scope="col">Due (Melbourne)</th><th scope="col">Deadline</th><th scope="col">Status</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr class=${r.status === 'overdue' ? 'row-overdue' : ''}>
        <td data-label="Obligation"><a href=${`#/incidents/${r.incident_id}?step=${encodeURIComponent(r.kind)}`}>${humanise(r.kind)}</a></td>
        <td data-label="Incident"><span class="mono">${r.incident_id.slice(0, 8)}</span> · ${r.organisation}</td>
        <td data-label="Client" class="nowrap">${(r.clients || []).join(', ')}</td>
        <td data-label="Due">${melbourne(r.due)}</td>
        <td data-label="Deadline">${deadline(r)}</td>
        <td data-label="Status"><span class=${`tag tag-${r.status}`}>${humanise(r.status)}</span></td>
      </tr>`)}</tbody>
    </table></div>
    ${more ? html`<button type="button" class="button secondary" onClick=${loadMore}>Show more obligations</button>` : null}`}`;
}
