// How instants and deadlines read: Melbourne time, and "due in 2 business days" from the API.
const ZONE = 'Australia/Melbourne';
const instant = new Intl.DateTimeFormat('en-AU', {
  timeZone: ZONE, day: 'numeric', month: 'short', year: 'numeric',
  hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
});
const day = new Intl.DateTimeFormat('en-AU', {
  timeZone: ZONE, day: 'numeric', month: 'short', year: 'numeric',
});

/** An ISO instant as Melbourne wall-clock time, e.g. "4 Mar 2025, 12:00 pm AEDT". */
export function melbourne(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : instant.format(d);
}

export function melbourneDay(iso) {
  return iso ? day.format(new Date(iso)) : '—';
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** An obligation's deadline as a person says it, from the API's own count of business days. */
export function deadline(o) {
  if (o.business_days_left != null) {
    return o.business_days_left === 0
      ? 'due today'
      : `due in ${plural(o.business_days_left, 'business day', 'business days')}`;
  }
  if (o.days_overdue != null) {
    return o.days_overdue === 0 ? 'overdue since today' : `${plural(o.days_overdue, 'day', 'days')} overdue`;
  }
  if (!['open', 'overdue'].includes(o.status)) return '—'; // settled: the status says how
  if (!o.due) return 'no deadline';
  return o.status ? humanise(o.status) : '';
}

/** Text in which the API wrote ISO instants, with each shown in Melbourne time instead. */
export function withMelbourneTimes(text) {
  return String(text).replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g, (iso) => melbourne(iso));
}

/** An enum value as shown: values that are already words ("Injury-explained") stay as they are;
 * others read as the API vocabulary describes them (`x-enum-descriptions` of their schema). */
export function optionLabel(value, schema) {
  if (/[A-Z ]/.test(String(value))) return String(value);
  const said = schema?.['x-enum-descriptions']?.[schema.enum.indexOf(value)];
  if (!said) return humanise(value);
  // Without a leading article, so that typing a word's first letters in a list finds it.
  const text = String(said).replace(/\.$/, '').replace(/^(A|An|The) (?=\S)/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

let vocabulary = {};
let byValue = {};
let labels = {};
let fields = new Set();
/** Remember the OpenAPI document's enum descriptions and field labels (api/vocabulary.py), so
 * pages can say what a recorded value or field means. */
export function learnVocabulary(doc) {
  vocabulary = doc?.components?.schemas || {};
  byValue = {};
  labels = {};
  const seen = {};
  const named = {};
  for (const schema of Object.values(vocabulary)) {
    (schema.enum || []).forEach((v) => { (seen[v] ??= new Set()).add(optionLabel(v, schema)); });
    for (const [name, prop] of Object.entries(schema.properties || {})) {
      const auto = name.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
      (named[name] ??= new Set()).add(prop.title && prop.title !== auto ? prop.title : '');
    }
  }
  // A value or field meaning one thing wherever it appears reads as that; others as words.
  for (const [v, said] of Object.entries(seen)) if (said.size === 1) [byValue[v]] = [...said];
  for (const [n, said] of Object.entries(named)) if (said.size === 1 && [...said][0]) [labels[n]] = [...said];
  fields = new Set(Object.keys(named));
}
/** A key of a recorded value in words: a field's name as a form labels it; a record's own key
 * (a person's reference "soa-15", "the outcome", "recommendation R1") as it is written. */
export function keyWords(key) {
  const k = String(key);
  if (fields.has(k)) return fieldWords(k);
  if (/^[a-z0-9]+(_[a-z0-9]+)+$/.test(k)) return humanise(k);
  return /\s/.test(k) ? k.charAt(0).toUpperCase() + k.slice(1) : k;
}
/** A recorded enum value in words, whichever enum it is of (when that is unambiguous). */
export function valueWords(value) {
  return byValue[value] ?? (/^[a-z0-9_]+$/.test(String(value)) ? humanise(value) : String(value));
}
/** A recorded field's name as a form labels it. */
export function fieldWords(name) {
  return labels[name] ?? humanise(String(name).replace(/(^|_)ref$/, '$1reference').replace(/(^|_)refs$/, '$1references'));
}
/** What value `value` of enum schema `name` (e.g. "CareContext") means, from the vocabulary. */
export function term(name, value) {
  if (value == null || value === '') return '—';
  return optionLabel(value, vocabulary[name]);
}

/** snake_case or kebab-case as words: "incident_report" → "Incident report". */
const ACRONYMS = /\b(cso|cp|acac|acco|ccyp|ssr|acsass|rcs|soa|dffh|id|cctv)\b/g;

export function humanise(name) {
  const words = String(name ?? '').replace(/[_-]+/g, ' ').trim().replace(ACRONYMS, (w) => w.toUpperCase())
    .replace(/\bnon /g, 'non-').replace(/\baboriginal\b/g, 'Aboriginal')
    .replace(/\b(follow) up\b/gi, '$1-up'); // the noun: "the follow-up", never "follow up"
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// The offset of Melbourne from UTC at an instant, in minutes.
function offsetAt(ms) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-AU', {
      timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((wall - ms) / 60000);
}

const pad = (n) => String(n).padStart(2, '0');

const ZONE_NAMES = { aest: 600, aedt: 660 };
const hhmm = (minutes) => `${minutes >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;

// A typed Melbourne wall-clock time read: {iso} or {why} (why it is not one instant).
function readMelbourne(value) {
  const text = String(value || '').trim().toLowerCase();
  const zone = '(?:\\s*(aest|aedt|[+-]\\d{2}:?\\d{2}))?';
  let y; let mo; let d; let h; let mi; let named;
  let m = new RegExp(`^(\\d{1,2})/(\\d{1,2})/(\\d{4})[ ,t]+(\\d{1,2})[:.](\\d{2})\\s*(am|pm)?${zone}$`).exec(text);
  if (m) {
    [d, mo, y, h, mi, named] = [+m[1], +m[2], +m[3], +m[4], +m[5], m[7]];
    if (m[6]) { if (h < 1 || h > 12) return {}; h = (h % 12) + (m[6] === 'pm' ? 12 : 0); }
  } else {
    m = new RegExp(`^(\\d{4})-(\\d{2})-(\\d{2})t(\\d{2}):(\\d{2})(?::\\d{2})?${zone}$`).exec(text);
    if (!m) return {};
    [y, mo, d, h, mi, named] = [+m[1], +m[2], +m[3], +m[4], +m[5], m[6]];
  }
  if (h > 23 || mi > 59) return {};
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return {};
  // Each offset Melbourne keeps (standard +10:00, daylight +11:00) that gives this wall time.
  const fits = [600, 660].filter((o) => offsetAt(wall - o * 60000) === o);
  const said = `${pad(d)}/${pad(mo)}/${y} ${pad(h)}:${pad(mi)}`;
  let offset;
  if (named) {
    offset = ZONE_NAMES[named] ?? (named[0] === '-' ? -1 : 1) * (+named.slice(1, 3) * 60 + +named.slice(-2));
    if (!fits.includes(offset)) {
      return { why: `${said} ${hhmm(offset)} is not a Melbourne time: Melbourne is ${fits.map(hhmm).join(' or ') || 'at neither +10:00 nor +11:00'} then` };
    }
  } else if (fits.length === 0) {
    return { why: `${said} does not exist in Melbourne: clocks go forward from 2:00 am to 3:00 am that night` };
  } else if (fits.length === 2) {
    return { why: `${said} happens twice in Melbourne, as clocks go back that night: add which, ${said} AEDT (daylight time, +11:00) or ${said} AEST (standard time, +10:00)` };
  } else {
    [offset] = fits;
  }
  return { iso: `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:00${hhmm(offset)}` };
}

/** A date and time typed as Melbourne wall-clock time — "30/11/2026 14:30", "30/11/2026 2:30 pm"
 * or "2026-11-30T14:30", optionally followed by AEST, AEDT or the offset — as an ISO instant
 * with Melbourne's offset then ("2026-11-30T14:30:00+11:00"); null when it is not one real
 * instant: no such date or time, a time skipped as clocks go forward, or one that happens twice
 * as they go back and was not said which (`whyNotMelbourneInput` says why). */
export function fromMelbourneInput(value) {
  return readMelbourne(value).iso ?? null;
}

/** Why a typed Melbourne time is not one instant, in words (null when it is one, or when it is
 * not a date and time at all). */
export function whyNotMelbourneInput(value) {
  return readMelbourne(value).why ?? null;
}

/** A day typed as "1/2/2010" (day/month/year) or "2010-02-01", as "2010-02-01"; else null. */
export function fromDayInput(value) {
  const text = String(value || '').trim();
  let m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const [y, mo, d] = m ? [+m[3], +m[2], +m[1]] : ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)) ? [+m[1], +m[2], +m[3]] : []);
  if (!y) return null;
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return `${y}-${pad(mo)}-${pad(d)}`;
}

/** An ISO instant as Melbourne wall-clock time in the form the inputs take: "30/11/2026 14:30". */
export function toMelbourneInput(iso) {
  if (!iso) return '';
  const ms = new Date(iso).getTime();
  const local = new Date(ms + offsetAt(ms) * 60000);
  return `${pad(local.getUTCDate())}/${pad(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}
