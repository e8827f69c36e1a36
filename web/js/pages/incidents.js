// Incidents: the list with the API's filters, paged by its cursor.
import { html, useEffect, useRef, useState } from '../html.js';
import { get, openapi } from '../api.js';
import { navigate } from '../nav.js';
import { humanise, melbourne } from '../format.js';

const enumOf = (doc, name) => doc?.components?.schemas?.[name]?.enum || null;

export function Incidents({ params, who }) {
  const [doc, setDoc] = useState(null);
  const initial = Object.fromEntries(['search', 'status', 'type', 'impact', 'organisation', 'overdue', 'aboriginal', 'sort', 'assigned'].map((k) => [k, params.get(k) || '']));
  const [filters, setFilters] = useState(initial);
  const [pages, setPages] = useState([undefined]); // the cursor of each page seen so far
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { openapi().then(setDoc).catch(() => setDoc({})); }, []);
  const cursor = pages[pages.length - 1];
  useEffect(() => {
    let current = true; // an answer to filters since replaced is dropped
    setPage(null);
    get('/v1/incidents', { ...filters, cursor, limit: 25 })
      .then((p) => current && setPage(p)).catch((e) => current && setError(e.message));
    return () => { current = false; };
  }, [filters, cursor]);
  // What the form shows is its own state, so a page arriving never resets a field.
  const [draft, setDraft] = useState(initial);
  const edit = (name) => (e) => setDraft({ ...draft, [name]: e.target.value });
  // Filters are kept in the address, so a view can be bookmarked and shared.
  const apply = (e) => {
    e.preventDefault();
    const chosen = Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, String(v).trim()]));
    const q = new URLSearchParams(Object.entries(chosen).filter(([, v]) => v)).toString();
    if (`#/incidents${q ? `?${q}` : ''}` === window.location.hash) { setFilters(chosen); setPages([undefined]); } else navigate(`#/incidents${q ? `?${q}` : ''}`);
  };
  const appointee = ['investigator', 'reviewer'].includes(who?.role);
  // The address holds the filters: when it changes (applied, back, a bookmark), so does the list.
  const asked = params.toString();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    const f = Object.fromEntries(Object.keys(initial).map((k) => [k, params.get(k) || '']));
    setFilters(f); setDraft(f); setPages([undefined]);
  }, [asked]);
  const select = (name, labelText, options) => html`<div class="form-group"><label for=${`il-${name}`}>${labelText}</label>
    <select id=${`il-${name}`} name=${name} value=${draft[name]} onChange=${edit(name)}><option value="">Any</option>
      ${options.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select></div>`;
  const stages = enumOf(doc, 'Stage');
  return html`<h1 tabindex="-1">Incidents</h1>
    <form class="filters" onSubmit=${apply} aria-label="Filter incidents">
      <div class="form-group search"><label for="il-search">Find an incident</label>
        <div class="hint" id="il-search-hint">The start of its id, a client reference, or words of its description or location</div>
        <input id="il-search" name="search" type="search" aria-describedby="il-search-hint" value=${draft.search} onInput=${edit('search')} /></div>
      ${appointee ? html`<div class="form-group checkbox-item assigned"><input type="checkbox" id="il-assigned" checked=${draft.assigned === 'me'}
        onChange=${(e) => setDraft({ ...draft, assigned: e.target.checked ? 'me' : '' })} /><label for="il-assigned">Assigned to me</label></div>` : null}
      ${stages ? select('status', 'Stage', stages.map((s) => [s, humanise(s)]))
        : html`<div class="form-group"><label for="il-status">Stage</label><input id="il-status" name="status" value=${draft.status} onInput=${edit('status')} /></div>`}
      ${select('type', 'Incident type', (enumOf(doc, 'IncidentType') || []).map((t) => [t, t]))}
      ${select('impact', 'Impact', (enumOf(doc, 'Impact') || []).map((t) => [t, humanise(t)]))}
      <div class="form-group"><label for="il-organisation">Organisation</label><div class="hint">Part of its name</div><input id="il-organisation" name="organisation" value=${draft.organisation} onInput=${edit('organisation')} /></div>
      ${select('overdue', 'Overdue', [['true', 'Overdue'], ['false', 'Not overdue']])}
      ${select('aboriginal', 'Aboriginal client', [['true', 'Yes'], ['false', 'No']])}
      <div class="form-group"><label for="il-sort">Order</label>
        <select id="il-sort" name="sort" value=${draft.sort || 'newest'} onChange=${edit('sort')}><option value="newest">Newest reported first</option>
          <option value="oldest">Oldest reported first</option></select></div>
      <button type="submit" class="button">Apply filters</button>
    </form>
    ${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>` : null}
    ${!page ? html`<p role="status">Loading…</p>` : page.items.length === 0 ? html`<p role="status">No incidents match these filters.</p>` : html`
    <div class="table-wrap" tabindex="0" role="region" aria-label="Incidents">
    <table class="table cards"><caption class="visually-hidden">Incidents, page ${pages.length}</caption>
      <thead><tr><th scope="col">Incident</th><th scope="col">Organisation</th><th scope="col">Impact</th><th scope="col">Stage</th><th scope="col">Reported (Melbourne)</th><th scope="col">Next due</th></tr></thead>
      <tbody>${page.items.map((i) => html`<tr class=${i.overdue ? 'row-overdue' : ''}>
        <td data-label="Incident"><a href=${`#/incidents/${i.id}`}>${i.types.join(', ')}</a> <span class="mono">${i.id.slice(0, 8)}</span></td>
        <td data-label="Organisation">${i.reporting_organisation}</td><td data-label="Impact">${humanise(i.impact)}</td><td data-label="Stage">${humanise(i.stage)}</td>
        <td data-label="Reported">${melbourne(i.reported_at)}</td><td data-label="Next due">${i.next_due ? melbourne(i.next_due) : '—'}${i.overdue ? html` <span class="tag tag-overdue">Overdue</span>` : null}</td>
      </tr>`)}</tbody></table></div>`}
    <nav class="pager" aria-label="Pages">
      ${pages.length > 1 ? html`<button type="button" class="button secondary" onClick=${() => setPages(pages.slice(0, -1))}>Previous page</button>` : null}
      <span>Page ${pages.length}</span>
      ${page?.next_cursor ? html`<button type="button" class="button secondary" onClick=${() => setPages([...pages, page.next_cursor])}>Next page</button>` : null}
    </nav>`;
}
