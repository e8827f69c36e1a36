// Regulator: its own feed of CloudEvents, paged by cursor, with each item's fields.
import { html, useEffect, useState } from '../html.js';
import { get, openapi } from '../api.js';
import { humanise, learnVocabulary, melbourne } from '../format.js';
import { Facts } from '../facts.js';

const PAGE = 10;

export function Feed({ who }) {
  const regulator = (who.organisation || '').toLowerCase();
  const [cursors, setCursors] = useState([undefined]); // each page's cursor; the first has none
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const cursor = cursors[cursors.length - 1];
  useEffect(() => { openapi().then(learnVocabulary).catch(() => {}); }, []);
  useEffect(() => {
    let current = true;
    setPage(null);
    get(`/v1/feeds/${encodeURIComponent(regulator)}`, { cursor, limit: PAGE })
      .then((p) => current && setPage(p)).catch((e) => current && setError(e.message));
    return () => { current = false; };
  }, [cursor]);
  return html`<h1 tabindex="-1">Feed <span class="caption">${regulator.toUpperCase()}</span></h1>
    <p class="lede">Data-minimised events for your regulator, in the order they were published (each says when it happened). Clients and subjects of allegation appear only as pseudonyms.</p>
    ${error ? html`<div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>` : null}
    ${!page ? html`<p role="status">Loading…</p>` : page.items.length === 0 ? html`<p role="status">No more items.</p>` : html`
    <ol class="feed">${page.items.map((item) => html`<li class="feed-item"><article aria-labelledby=${`fi-${item.id}`}>
      <h2 id=${`fi-${item.id}`}>${humanise(item.type.split('.').slice(-2).join(' '))}${item.data?.types?.length ? `: ${item.data.types.join(', ')}` : ''}
${' '}<span class="caption">${melbourne(item.time)} · incident ${String(item.subject).slice(0, 8)}</span></h2>
      <${Facts} data=${Object.fromEntries(Object.entries(item.data || {}).filter(([k]) => !['incident', 'types'].includes(k)))} />
      </article></li>`)}</ol>`}
    <nav class="pager" aria-label="Pages">
      ${cursors.length > 1 ? html`<button type="button" class="button secondary" onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>` : null}
      <span>Page ${cursors.length}</span>
      ${page && page.items.length === PAGE ? html`<button type="button" class="button secondary" onClick=${() => setCursors([...cursors, page.next_cursor])}>Next page</button>` : null}
    </nav>`;
}
