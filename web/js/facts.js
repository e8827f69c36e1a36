// What was recorded, field by field, in words: no field names, no null, no JSON (the incident's
// timeline, the auditor's differences).
import { html } from './html.js';
import { keyWords, melbourne, melbourneDay, valueWords } from './format.js';

// What an entry recorded, field by field, in words (no field names, no null, no JSON).
export const skipped = (v) => v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)
  || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length);
// One value in words: an instant in Melbourne time, a day, yes or no, an enum's meaning.
function said(v) {
  if (skipped(v)) return 'none';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  // A pseudonym (a keyed hash) is only ever compared: its first characters are enough to read.
  if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) return `${v.slice(0, 12)}…`;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return melbourne(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return melbourneDay(v);
  return valueWords(v);
}
export function Fact({ v }) {
  if (skipped(v)) return 'none';
  if (Array.isArray(v)) {
    const shown = v.filter((x) => !skipped(x));
    return shown.every((x) => typeof x !== 'object') ? shown.map(said).join(', ')
      : html`<ul class="plain">${shown.map((x) => html`<li><${Fact} v=${x} /></li>`)}</ul>`;
  }
  if (typeof v === 'object') return html`<${Facts} data=${v} />`;
  return said(v);
}
export function Facts({ data }) {
  const rows = Object.entries(data || {}).filter(([, v]) => !skipped(v));
  if (!rows.length) return null;
  return html`<dl class="facts">${rows.map(([k, v]) => html`<div><dt>${keyWords(k)}</dt><dd><${Fact} v=${v} /></dd></div>`)}</dl>`;
}
