// Regulator: its own feed of CloudEvents, paged by cursor, with each item's fields.
import { html, useEffect, useState } from '../html.js';
import { get } from '../api.js';
import { humanise, melbourne } from '../format.js';

const PAGE = 10;

function Value({ v }) {
  if (v == null || v === '') return '—';
  if (Array.isArray(v)) return v.length ? html`<ul class="plain">${v.map((x) => html`<li><${Value} v=${x} /></li>`)}</ul>` : '—';
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => html`<span class="kv">${humanise(k)}: <${Value} v=${x} /></span> `);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return melbourne(v);
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  return String(v);
}

export function Feed({ who }) {
  const regulator = (who.organisation || '').toLowerCase();
  const [cursors, setCursors] = useState([undefined]); // each page's cursor; the first has none
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    let current = true;
    setPage(null);
    get(`/v1/feeds/${encodeURIComponent(regulator)}`, { cursor, limit: PAGE })
      .then((p) => current && setPage(p)).catch((e) => current && setError(e.message));
    return () => { current = false; };
  }, [cursor]);
  return html`<h1 tabindex="-1">Feed <span class="caption">${regulator.toUpperCase()}</span></h1>
    <p class="lede">Data-minimised events for your regulator, oldest first. Client and subject references are pseudonymised.</p>
    ${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>` : null}
    ${!page ? html`<p role="status">Loading…</p>` : page.items.length === 0 ? html`<p role="status">No more items.</p>` : html`
    <ol class="feed">${page.items.map((item) => html`<li class="feed-item"><article aria-labelledby=${`fi-${item.id}`}>
      <h2 id=${`fi-${item.id}`}>${humanise(item.type.split('.').pop())} <span class="caption">${item.id}</span></h2>
      <dl class="summary-list">
        <div class="summary-row"><dt>Time</dt><dd>${melbourne(item.time)}</dd></div>
        <div class="summary-row"><dt>Incident</dt><dd class="mono">${item.subject}</dd></div>
        ${Object.entries(item.data || {}).filter(([k]) => k !== 'incident').map(([k, v]) => html`<div class="summary-row"><dt>${humanise(k)}</dt><dd><${Value} v=${v} /></dd></div>`)}
      </dl></article></li>`)}</ol>`}
    <nav class="pager" aria-label="Pages">
      ${cursors.length > 1 ? html`<button type="button" class="button secondary" onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>` : null}
      <span>Page ${cursors.length}</span>
      ${page && page.items.length === PAGE ? html`<button type="button" class="button secondary" onClick=${() => setCursors([...cursors, page.next_cursor])}>Next page</button>` : null}
    </nav>`;
}
