// Report an incident: every field of the API's ReportIn schema, checked against the schema
// before sending, refusals shown at their fields, a draft kept in this browser, and one
// Idempotency-Key per submission so that a retry never reports twice.
import { html, useEffect, useState } from '../html.js';
import { ApiError, command, explain, newKey, openapi, session } from '../api.js';
import { DRAFT_HOURS, loadDraft, removeDraft, saveDraft } from '../drafts.js';
import { ErrorSummary, SchemaFields, initial, placed, toBody, validate } from '../form.js';
import { navigate } from '../nav.js';

const DRAFT = 'report';

/** The clients entered above, to pick a guardian's client from (once there is one to pick). */
export function clientChoices(value) {
  const refs = [...new Set((value?.clients || []).map((c) => String(c?.ref || '').trim()).filter(Boolean))];
  return refs.length ? { client_ref: refs.map((ref) => ({ value: ref, label: ref })) } : {};
}

export function Report() {
  const [doc, setDoc] = useState(null);
  const [value, setValue] = useState(null);
  const [key, setKey] = useState(null);
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const [restored, setRestored] = useState(false);
  // A form nothing was entered in is no draft: it is neither kept nor said to be restored.
  const empty = (v, d) => JSON.stringify(v) === JSON.stringify(initial(d.components.schemas.ReportIn, d.components.schemas));
  useEffect(() => {
    openapi().then((d) => {
      setDoc(d);
      const draft = loadDraft(DRAFT, session.identity);
      if (draft?.value && !empty(draft.value, d)) { setValue(draft.value); setKey(draft.key || null); setRestored(true); } else setValue(initial(d.components.schemas.ReportIn, d.components.schemas));
    }).catch((e) => setErrors([{ field: null, message: e.message }]));
  }, []);
  // Kept as it is typed (not after the next paint): a reload straight after typing keeps it.
  const persist = (v, k) => {
    if (!v || !doc) return;
    if (empty(v, doc) && !k) removeDraft(DRAFT);
    else saveDraft(DRAFT, session.identity, { value: v, key: k });
  };
  const change = (v) => { setValue(v); persist(v, key); };
  useEffect(() => { persist(value, key); }, [key]);
  if (!doc || !value) return html`<h1 tabindex="-1">Report an incident</h1><${ErrorSummary} errors=${errors} /><p role="status">Loading the form…</p>`;
  const components = doc.components.schemas;
  const schema = components.ReportIn;

  const submit = async (e) => {
    e.preventDefault();
    const found = validate(schema, value, components);
    setErrors(found);
    if (found.length) return;
    const submission = key || newKey(); // kept until it succeeds: a retry reuses it
    setKey(submission);
    setBusy(true);
    try {
      const accepted = await command('/v1/incidents', toBody(schema, value, components), { key: submission });
      removeDraft(DRAFT);
      navigate(`#/incidents/${accepted.id}`);
    } catch (err) {
      setErrors(placed(await explain(err), schema, components));
      // Refused outright (a 4xx other than the key's own problems): nothing was recorded, so the
      // corrected report is a new submission. Otherwise the outcome is unknown: keep the key,
      // so that sending again cannot report twice.
      const rule = err instanceof ApiError ? String(err.problem.rule || err.problem.type || '') : '';
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && !/idempotency/.test(rule)) setKey(null);
    } finally {
      setBusy(false);
    }
  };
  const discard = () => {
    removeDraft(DRAFT);
    setValue(initial(schema, components)); setKey(null); setErrors([]); setRestored(false);
  };
  return html`<h1 tabindex="-1">Report an incident</h1>
    <${ErrorSummary} errors=${errors} />
    ${restored ? html`<div class="inset" role="status">Your draft was restored from this browser.</div>` : null}
    <p class="lede">Report what happened as soon as you can. Your draft is kept in this browser, for you alone, until you send it, sign out or leave it for ${DRAFT_HOURS} hours.</p>
    <form onSubmit=${submit} noValidate>
      <${SchemaFields} schema=${schema} components=${components} value=${value} onChange=${change} errors=${errors}
        choices=${clientChoices(value)} />
      <div class="button-group">
        <button type="submit" class="button" disabled=${busy}>Send report</button>
        <button type="button" class="button secondary" onClick=${discard}>Discard draft</button>
      </div>
    </form>`;
}
