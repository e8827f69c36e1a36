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

/** snake_case or kebab-case as words: "incident_report" → "Incident report". */
const ACRONYMS = /\b(cso|cp|acac|ccyp|ssr|acsass|rcs|soa|dffh|id)\b/g;

export function humanise(name) {
  const words = String(name ?? '').replace(/[_-]+/g, ' ').trim().replace(ACRONYMS, (w) => w.toUpperCase());
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

/** A datetime-local value ("2025-03-04T10:00"), read as Melbourne time, as an ISO instant
 * with its offset ("2025-03-04T10:00:00+11:00"); null when the value is not a date-time. */
export function fromMelbourneInput(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value || '');
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let offset = offsetAt(wall);
  offset = offsetAt(wall - offset * 60000);
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${pad(+(m[6] || 0))}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An ISO instant as a datetime-local value in Melbourne time. */
export function toMelbourneInput(iso) {
  if (!iso) return '';
  const ms = new Date(iso).getTime();
  const local = new Date(ms + offsetAt(ms) * 60000);
  return local.toISOString().slice(0, 16);
}
