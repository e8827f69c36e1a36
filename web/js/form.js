// One form renderer for every request schema in /openapi.json: a new command gets its form
// without new page code. GOV.UK-style: labels above inputs, hints, an error summary at the top
// whose links move focus to the field, and each field's own message beside it.
import { html, useEffect, useRef } from './html.js';
import { humanise, fromDayInput, fromMelbourneInput, optionLabel, whyNotMelbourneInput } from './format.js';

const HIDDEN = new Set(['expected_version']);

/** Resolve a $ref and unwrap `anyOf: [X, {type: null}]`; returns [schema, nullable]. */
export function resolve(schema, components) {
  let s = schema || {};
  let nullable = false;
  for (let i = 0; i < 8; i += 1) {
    if (s.$ref) {
      const named = s.$ref.split('/').pop();
      s = { ...components[named], refName: named, ...without(s, '$ref') };
    } else if (s.anyOf) {
      const rest = s.anyOf.filter((x) => x.type !== 'null');
      nullable ||= rest.length < s.anyOf.length;
      s = { ...rest[0], ...without(s, 'anyOf'), title: s.title ?? rest[0].title };
    } else if (s.allOf && s.allOf.length === 1) {
      s = { ...s.allOf[0], ...without(s, 'allOf') };
    } else break;
  }
  return [s, nullable];
}

function without(o, key) {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

export const fieldId = (path) => `f-${path.join('-').replace(/[^A-Za-z0-9_-]/g, '_')}`;
// A field's label from its name: "became_aware_at" → "Became aware at", "subject_refs" →
// "Subject references" (a schema title that is not just the name in Title Case wins).
const words = (name) => humanise(String(name).replace(/(^|_)ref$/, '$1reference').replace(/(^|_)refs$/, '$1references'));
// pydantic's own title is the name in Title Case; the API vocabulary's label (api/vocabulary.py
// LABELS) is anything else, and wins.
const autoTitle = (name) => String(name).split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
const label = (name, s) => (s?.title && typeof name === 'string' && s.title !== autoTitle(name) && s.title !== s.refName ? s.title : words(name));
// An enum's schema description lists every value for /docs ("- `cso`: …"): not a hint.
const ownHint = (s) => {
  const said = s.description ? String(s.description).split(/(^|\n)- `/)[0].trim().replace(/\.$/, '') : '';
  return said.charAt(0).toUpperCase() + said.slice(1);
};
// One item of a list, from the item model's title: "SubjectOfAllegation" → "subject of allegation".
const itemName = (item, listName) => (item.title && /^[A-Z][A-Za-z]+$/.test(item.title)
  ? item.title.replace(/In$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
  : words(listName).replace(/s$/, '').toLowerCase());
const isLong = (s) => (s.maxLength || 0) > 2000;

/** An empty value for a schema: what a new form or a new list item starts from. */
export function initial(schema, components) {
  const [s] = resolve(schema, components);
  if (s.default !== undefined) return structuredClone(s.default);
  if (s.type === 'object' && s.properties) {
    return Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, initial(v, components)]));
  }
  if (s.type === 'array') {
    if (s.prefixItems) return s.prefixItems.map(() => '');
    const [item] = resolve(s.items, components);
    const n = s.minItems && item.type === 'object' ? s.minItems : 0;
    return Array.from({ length: n }, () => initial(s.items, components));
  }
  if (s.type === 'boolean') return false;
  return '';
}

// Blank: nothing entered, in a value, a list or a group (an optional group left empty is left out).
const blank = (v) => v === '' || v === null || v === undefined
  || (Array.isArray(v) && v.every(blank))
  || (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => blank(x) || x === false));

/** The request body for a value: empty optional fields left out, date-times as instants with
 * Melbourne's offset, numbers as numbers, one-per-line lists as arrays. */
export function toBody(schema, value, components) {
  const [s] = resolve(schema, components);
  if (s.type === 'object' && s.properties) {
    const out = {};
    for (const [k, sub] of Object.entries(s.properties)) {
      if (HIDDEN.has(k)) continue;
      const [ss] = resolve(sub, components);
      // An optional group or list left empty is left out (not sent as empty fields or []).
      if ((ss.type === 'array' || (ss.type === 'object' && ss.properties)) && !(s.required || []).includes(k) && blank(value?.[k])) continue;
      const v = toBody(sub, value?.[k], components);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (s.type === 'object') return mapFromLines(value);
  if (s.type === 'array') {
    if (s.prefixItems) return blank(value) ? undefined : value.map((v, i) => toBody(s.prefixItems[i], v, components));
    const [item] = resolve(s.items, components);
    if (isEnum(item) || item.type === 'object') {
      const list = (value || []).map((v) => toBody(s.items, v, components));
      return list.length || s.minItems ? list : undefined;
    }
    const lines = linesOf(value);
    return lines.length || s.minItems ? lines.map((l) => toBody(s.items, l, components)) : undefined;
  }
  if (blank(value)) return undefined;
  if (s.type === 'string' && s.format === 'date-time') return fromMelbourneInput(value) ?? value;
  if (s.type === 'string' && s.format === 'date') return fromDayInput(value) ?? value;
  if (s.type === 'integer') return /^-?\d+$/.test(String(value).trim()) ? Number(value) : value;
  if (s.type === 'number') return Number.isFinite(Number(value)) ? Number(value) : value;
  return value;
}

const linesOf = (v) => (Array.isArray(v) ? v : String(v ?? '').split('\n')).map((x) => String(x).trim()).filter(Boolean);
function mapFromLines(v) {
  const lines = linesOf(v);
  if (!lines.length) return undefined;
  return Object.fromEntries(lines.map((l) => {
    const at = l.indexOf(':');
    return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
  }));
}
const isEnum = (s) => Array.isArray(s.enum);

/** Errors the schema finds before anything is sent: [{field: "a.0.b", message}]. */
export function validate(schema, value, components, path = []) {
  const [s, nullable] = resolve(schema, components);
  const errors = [];
  const name = label(path[path.length - 1] ?? 'value', s).toLowerCase();
  const here = path.join('.');
  // Inside a list item, say which: "… for client 1".
  const last = path[path.length - 1];
  const whose = typeof last === 'number' ? ` for ${words(path[path.length - 2]).replace(/s$/, '').toLowerCase()} ${last + 1}` : '';
  if (s.type === 'object' && s.properties) {
    for (const [k, sub] of Object.entries(s.properties)) {
      if (HIDDEN.has(k)) continue;
      const v = value?.[k];
      const [ss] = resolve(sub, components);
      if ((s.required || []).includes(k) && blank(v) && !(ss.type === 'array' && !ss.minItems) && ss.type !== 'boolean') {
        const verb = isEnum(ss) || (ss.type === 'array' && isEnum(resolve(ss.items, components)[0])) ? 'Select' : 'Enter';
        errors.push({ field: [...path, k].join('.'), message: `${verb} ${label(k, ss).toLowerCase()}${whose}` });
      } else if (!(s.required || []).includes(k) && blank(v)) {
        // Optional and left empty (a list, a group): nothing to check.
      } else if (!blank(v) || ss.type === 'array') {
        errors.push(...validate(sub, v, components, [...path, k]));
      }
    }
    return errors;
  }
  if (s.type === 'array' && !s.prefixItems) {
    const [item] = resolve(s.items, components);
    const list = item.type === 'object' || isEnum(item) ? (value || []) : linesOf(value);
    if (s.minItems && list.length < s.minItems) errors.push({ field: here, message: `${isEnum(item) ? 'Select' : 'Give'} at least ${s.minItems} ${name}` });
    if (s.maxItems && list.length > s.maxItems) errors.push({ field: here, message: `Give at most ${s.maxItems} ${name}` });
    if (item.type === 'object') list.forEach((v, i) => errors.push(...validate(s.items, v, components, [...path, i])));
    return errors;
  }
  if (s.type === 'array' && s.prefixItems) {
    if (!blank(value) && value.some(blank)) errors.push({ field: here, message: `Enter both ends of ${name}` });
    return errors;
  }
  if (blank(value)) return nullable ? [] : errors;
  if (s.type === 'string') {
    if (s.format === 'date-time' && !fromMelbourneInput(value)) errors.push({ field: here, message: whyNotMelbourneInput(value) ? `${humanise(name)}: ${whyNotMelbourneInput(value)}` : `Enter ${name} as a real date and time, like 30/11/2026 14:30` });
    if (s.format === 'date' && !fromDayInput(value)) errors.push({ field: here, message: `Enter ${name} as a real date, like 27/3/2010` });
    if (s.minLength && String(value).length < s.minLength) errors.push({ field: here, message: `Enter ${name}` });
    if (s.pattern && !new RegExp(s.pattern).test(String(value).trim())) {
      errors.push({ field: here, message: `${humanise(name)} is not in the right form${ownHint(s) ? `: ${ownHint(s).replace(/^[^:]*:\s*/, '')}` : ''}` });
    }
    if (s.maxLength && String(value).length > s.maxLength) errors.push({ field: here, message: `${humanise(name)} must be ${s.maxLength} characters or fewer` });
  }
  if ((s.type === 'integer' || s.type === 'number') && !Number.isFinite(Number(value))) {
    errors.push({ field: here, message: `${humanise(name)} must be a number` });
  }
  return errors;
}

/** The list of problems at the top of a form; each link moves focus to its field. */
export function ErrorSummary({ errors }) {
  const box = useRef(null);
  useEffect(() => { if (errors.length) box.current?.focus(); }, [errors]);
  if (!errors.length) return null;
  const focus = (e, field) => {
    const target = document.getElementById(fieldId(String(field).split('.')));
    if (target) { e.preventDefault(); target.focus(); target.scrollIntoView({ block: 'center' }); }
  };
  return html`<div class="error-summary" role="alert" tabindex="-1" ref=${box} aria-labelledby="error-summary-title">
    <h2 id="error-summary-title">There is a problem</h2>
    <ul>${errors.map((e) => html`<li>${e.field
      ? html`<a href=${`#${fieldId(String(e.field).split('.'))}`} onClick=${(ev) => focus(ev, e.field)}>${e.message}</a>`
      : e.message}</li>`)}</ul>
  </div>`;
}

function set(value, path, v) {
  if (!path.length) return v;
  const [head, ...rest] = path;
  const copy = Array.isArray(value) ? [...value] : { ...(value || {}) };
  copy[head] = set(copy[head], rest, v);
  return copy;
}

/** Fields for `schema`, bound to `value`; `onChange(newValue)`; `errors` by dotted field path.
 * `choices` (by field name): [{value, label}] to pick from instead of typing — the people and
 * recommendations already on the incident; `only` (by field name): the enum values offered. */
export function SchemaFields({ schema, components, value, onChange, errors, omit = [], choices = {}, only = {} }) {
  const byField = {};
  for (const e of errors || []) if (e.field) (byField[e.field] ??= []).push(e.message);
  const ctx = { components, byField, root: value, onChange, choices, only };
  const [s] = resolve(schema, components);
  return html`${Object.entries(s.properties || {})
    .filter(([k]) => !HIDDEN.has(k) && !omit.includes(k))
    .map(([k, sub]) => field(ctx, [k], sub, (s.required || []).includes(k)))}`;
}

// After a list changes: focus the new item's first field (or the list, after a removal).
function focusLater(id, first = false) {
  setTimeout(() => {
    const box = document.getElementById(id);
    const target = first ? box?.querySelector('input, select, textarea') : box;
    target?.focus();
    target?.scrollIntoView?.({ block: 'center' });
  }, 0);
}

function get(value, path) {
  return path.reduce((v, k) => (v == null ? v : v[k]), value);
}

function field(ctx, path, schema, required) {
  const [s, nullable] = resolve(schema, ctx.components);
  const id = fieldId(path);
  const name = path[path.length - 1];
  const text = label(name, s);
  const messages = ctx.byField[path.join('.')] || [];
  const value = get(ctx.root, path);
  const change = (v) => ctx.onChange(set(ctx.root, path, v));
  const optional = !required || nullable ? html` <span class="optional">(optional)</span>` : null;
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const hintText = [ownHint(s), s.format === 'date-time' ? 'Melbourne time, for example 30/11/2026 14:30' : null,
    s.format === 'date' ? 'For example 27/3/2010' : null,
    s.type === 'array' && !s.prefixItems && !ctx.choices[name] && !isEnum(resolve(s.items, ctx.components)[0]) && resolve(s.items, ctx.components)[0].type !== 'object' ? 'One per line' : null,
    s.type === 'object' && !s.properties ? 'One per line, as name: reason' : null]
    .filter(Boolean).map((t) => String(t).replace(/`/g, '').replace(/[.\s]+$/, '')).join('. ');
  const hint = hintText ? html`<div class="hint" id=${hintId}>${hintText}</div>` : null;
  const error = messages.length
    ? html`<p class="error-message" id=${errId}><span class="visually-hidden">Error: </span>${messages.join('. ')}</p>` : null;
  const describedBy = [hintText ? hintId : null, messages.length ? errId : null].filter(Boolean).join(' ') || undefined;
  const group = (cls, body) => html`<div class=${`form-group ${cls || ''} ${messages.length ? 'form-group-error' : ''}`}>${body}</div>`;

  if (s.type === 'boolean') {
    return group('checkbox', html`${error}<div class="checkbox-item">
      <input type="checkbox" id=${id} checked=${!!value} aria-describedby=${describedBy}
        onChange=${(e) => change(e.target.checked)} />
      <label for=${id}>${text}</label></div>${hint}`);
  }
  const picks = typeof name === 'string' ? ctx.choices[name] : null;
  if (picks && (s.type === 'string' || s.type === 'integer' || isEnum(s))) {
    // Someone (or something) already on the incident: picked, not typed.
    const none = nullable && !required ? 'None' : 'Choose…';
    return group('', html`<label for=${id}>${text}${optional}</label>${hint}${error}
      <select id=${id} aria-describedby=${describedBy} aria-invalid=${messages.length ? 'true' : undefined}
        onChange=${(e) => change(e.target.value)}>
        <option value="" selected=${blank(value)}>${none}</option>
        ${picks.map((o) => html`<option value=${o.value} selected=${!blank(value) && String(value) === String(o.value)}>${o.label}</option>`)}
        ${!blank(value) && !picks.some((o) => String(o.value) === String(value)) ? html`<option value=${value} selected>${value}</option>` : null}
      </select>`);
  }
  if (picks && s.type === 'array') {
    const chosen = new Set(value || []);
    return group('', html`<fieldset id=${id} tabindex="-1" aria-describedby=${describedBy}><legend>${text}${optional}</legend>${hint}${error}
      <div class="checkboxes">${picks.map((o, i) => html`<div class="checkbox-item">
        <input type="checkbox" id=${`${id}-${i}`} value=${o.value} checked=${chosen.has(o.value)}
          onChange=${(e) => change(picks.map((p) => p.value).filter((x) => (x === o.value ? e.target.checked : chosen.has(x))))} />
        <label for=${`${id}-${i}`}>${o.label}</label></div>`)}</div></fieldset>`);
  }
  if (isEnum(s)) {
    const allowed = typeof name === 'string' && ctx.only[name];
    const offered = allowed ? s.enum.filter((o) => allowed.includes(o) || o === value) : s.enum;
    return group('', html`<label for=${id}>${text}${optional}</label>${hint}${error}
      <select id=${id} aria-describedby=${describedBy} aria-invalid=${messages.length ? 'true' : undefined}
        onChange=${(e) => change(e.target.value)}>
        <option value="" selected=${blank(value)}>Choose…</option>
        ${offered.map((o) => html`<option value=${o} selected=${value === o}>${optionLabel(o, s)}</option>`)}
      </select>`);
  }
  if (s.type === 'array' && s.prefixItems) {
    const v = Array.isArray(value) ? value : ['', ''];
    return group('', html`<fieldset id=${id} aria-describedby=${describedBy}><legend>${text}${optional}</legend>${hint}${error}
      ${s.prefixItems.map((_, i) => html`<div class="inline-field">
        <label for=${`${id}-${i}`}>${i === 0 ? 'From' : 'To'}</label>
        <input type="text" id=${`${id}-${i}`} value=${v[i] || ''} aria-describedby=${describedBy}
          onInput=${(e) => change(v.map((x, j) => (j === i ? e.target.value : x)))} /></div>`)}
    </fieldset>`);
  }
  if (s.type === 'array') {
    const [item] = resolve(s.items, ctx.components);
    if (isEnum(item)) {
      const chosen = new Set(value || []);
      return group('', html`<fieldset aria-describedby=${describedBy}><legend>${text}${optional}</legend>${hint}${error}
        <div class="checkboxes">${item.enum.map((o, i) => html`<div class="checkbox-item">
          <input type="checkbox" id=${i === 0 ? id : `${id}-${i}`} value=${o} checked=${chosen.has(o)}
            onChange=${(e) => change(item.enum.filter((x) => (x === o ? e.target.checked : chosen.has(x))))} />
          <label for=${i === 0 ? id : `${id}-${i}`}>${optionLabel(o, item)}</label></div>`)}</div></fieldset>`);
    }
    if (item.type === 'object') {
      const list = value || [];
      const one = itemName(item, name);
      return group('', html`<fieldset id=${id} tabindex="-1" aria-describedby=${describedBy}><legend>${text}${optional}</legend>${hint}${error}
        ${list.map((_, i) => html`<fieldset class="item" id=${`${id}-item-${i}`}><legend>${humanise(one)} ${i + 1}</legend>
          ${Object.entries(item.properties || {}).map(([k, sub]) => field(ctx, [...path, i, k], sub, (item.required || []).includes(k)))}
          ${list.length > (s.minItems || 0) ? html`<button type="button" class="button secondary"
            onClick=${() => { change(list.filter((__, j) => j !== i)); focusLater(id); }}>Remove ${one} ${i + 1}</button>` : null}
        </fieldset>`)}
        ${!s.maxItems || list.length < s.maxItems ? html`<button type="button" class="button secondary"
          onClick=${() => { change([...list, initial(s.items, ctx.components)]); focusLater(`${id}-item-${list.length}`, true); }}>Add ${list.length ? 'another' : 'a'} ${one}</button>` : null}
      </fieldset>`);
    }
    return group('', html`<label for=${id}>${text}${optional}</label>${hint}${error}
      <textarea id=${id} rows="3" aria-describedby=${describedBy} aria-invalid=${messages.length ? 'true' : undefined}
        onInput=${(e) => change(e.target.value)}>${Array.isArray(value) ? value.join('\n') : (value || '')}</textarea>`);
  }
  if (s.type === 'object' && s.properties) {
    return group('', html`<fieldset id=${id} tabindex="-1"><legend>${text}${optional}</legend>${hint}${error}
      ${Object.entries(s.properties).map(([k, sub]) => field(ctx, [...path, k], sub, (s.required || []).includes(k)))}</fieldset>`);
  }
  if (s.type === 'object') {
    return group('', html`<label for=${id}>${text}${optional}</label>${hint}${error}
      <textarea id=${id} rows="3" aria-describedby=${describedBy} onInput=${(e) => change(e.target.value)}>${value || ''}</textarea>`);
  }
  const common = {
    id, 'aria-describedby': describedBy, 'aria-invalid': messages.length ? 'true' : undefined,
    onInput: (e) => change(e.target.value), value: value ?? '',
  };
  if (s.type === 'string' && isLong(s)) {
    return group('', html`<label for=${id}>${text}${optional}</label>${hint}${error}<textarea rows="4" ...${common} />`);
  }
  const extra = s.type === 'integer' || s.type === 'number' ? { inputmode: 'numeric' } : {};
  const cls = s.format === 'date-time' ? 'medium' : s.format === 'date' ? 'short-date' : undefined;
  return group('', html`<label for=${id}>${text}${optional}</label>${hint}${error}
    <input type="text" class=${cls} autocomplete="off" ...${common} ...${extra} />`);
}

// The schema at a dotted path ("clients.0.ref"), or null when the form has no such field.
function schemaAt(schema, components, parts) {
  let [s] = resolve(schema, components);
  for (const part of parts) {
    if (s.type === 'array') {
      if (!/^\d+$/.test(part)) return null;
      [s] = resolve(s.prefixItems ? s.prefixItems[+part] : s.items, components);
    } else if (s.properties && s.properties[part]) {
      [s] = resolve(s.properties[part], components);
    } else return null;
  }
  return s;
}

const SCHEMA_SAYS = {
  'schema.missing': (l) => `Enter ${l}`,
  'schema.string_too_short': (l) => `Enter ${l}`,
  'schema.string_too_long': (l) => `${humanise(l)} is too long`,
  'schema.enum': (l) => `Choose ${l} from the list`,
  'schema.literal_error': (l) => `Choose ${l} from the list`,
};

/** A refusal's errors placed on the fields of this form: a field the API names by a longer
 * path ("details.became_aware_at") lands on the form's own ("became_aware_at"); a schema
 * refusal reads in words ("… is not in the right form"), never as a pattern or a type name. */
export function placed(errors, schema, components) {
  return errors.map((e) => {
    if (!e.field) return e;
    const parts = String(e.field).split('.');
    let at = null;
    for (let i = 0; i < parts.length && !at; i += 1) {
      if (schemaAt(schema, components, parts.slice(i))) at = parts.slice(i);
    }
    if (!at) return { ...e, field: null };
    const s = schemaAt(schema, components, at);
    const name = at[at.length - 1];
    let { message } = e;
    if (String(e.rule || '').startsWith('schema.')) {
      const l = label(/^\d+$/.test(name) ? at[at.length - 2] : name, s).toLowerCase();
      const hintText = ownHint(s).replace(/^[^:]*:\s*/, '');
      message = SCHEMA_SAYS[e.rule]?.(l) || `${humanise(l)} is not in the right form${hintText ? `: ${hintText}` : ''}`;
    }
    return { ...e, field: at.join('.'), message };
  });
}
