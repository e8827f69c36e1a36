// Documents on an incident's record: the list (who added each, when, the step it supports,
// whether a correction superseded it), each opened as a download; for those the API says may
// add one, a file picker that also takes a dropped file, with the upload's progress. The
// server decides a file's type from its bytes; refusals are its rules' messages.
import { html, useEffect, useRef, useState } from '../html.js';
import { download, explain, get, newKey, upload } from '../api.js';
import { ErrorSummary } from '../form.js';
import { humanise, melbourne } from '../format.js';

const megabytes = (n) => `${(n / (1024 * 1024)).toLocaleString('en-AU', { maximumFractionDigits: 1 })} MB`;
const bytes = (n) => (n < 1024 * 1024 ? `${Math.max(1, Math.round(n / 1024)).toLocaleString('en-AU')} KB` : megabytes(n));

/** The documents of incident `id`, read again whenever `version` changes. */
export function useDocuments(id, version) {
  const [found, setFound] = useState({ items: [], may_add: false, kinds: [], allowed_types: [] });
  useEffect(() => {
    if (version == null) return;
    get(`/v1/incidents/${id}/documents`).then(setFound).catch(() => setFound((f) => ({ ...f, items: [] })));
  }, [id, version]);
  return found;
}

function open(d) {
  return download(d.href, d.file_name);
}

function OpenButton({ d, label }) {
  // On paper the document's name is printed where the screen offers a button to open it.
  return html`<button type="button" class="link-button" onClick=${() => open(d)}>${label || `Open ${d.file_name}`}</button><span class="print-only">${d.file_name}</span>`;
}

/** The documents that support the step at `version`, or that it names: shown beside it. */
export function DocumentLinks({ docs, version }) {
  const here = docs.items.filter((d) => d.supports_version === version || (d.named_by_versions || []).includes(version));
  if (!here.length) return null;
  return html`<ul class="document-links">${here.map((d) => html`<li>${d.kind_label}: <${OpenButton} d=${d} />${d.superseded ? ' (superseded)' : ''}</li>`)}</ul>`;
}

// The documents a reviewer checking procedural fairness opens from the checklist.
const FAIRNESS_KINDS = ['allegations_letter', 'subject_response', 'investigation_report', 'rcs_investigation_report', 'outcome_review_decision'];

/** Links, in the fairness checklist, to the letter that served the allegations and the report. */
export function FairnessDocuments({ docs }) {
  const current = docs.items.filter((d) => !d.superseded && FAIRNESS_KINDS.includes(d.kind));
  if (!current.length) return html`<p class="hint">No allegations letter or report is on the record yet.</p>`;
  return html`<ul class="document-links">${current.map((d) => html`<li><${OpenButton} d=${d} label=${`Open the ${d.kind_label} (${d.file_name})`} /></li>`)}</ul>`;
}

function List({ docs, trail, onSupersede }) {
  if (!docs.items.length) return html`<p>No documents are on the record.</p>`;
  const step = (v) => trail.find((t) => t.version === v);
  return html`<ul class="documents">${docs.items.map((d) => html`<li class=${d.superseded ? 'document superseded' : 'document'}>
    <p><strong>${d.kind_label.charAt(0).toUpperCase()}${d.kind_label.slice(1)}</strong>: <${OpenButton} d=${d} label=${d.file_name} /> <span class="hint">${bytes(d.size)}</span>
      ${d.superseded ? html` <span class="tag">Superseded</span>` : null}</p>
    <p class="hint">Added ${melbourne(d.added_at)} by ${d.added_by.id} (${humanise(d.added_by.role).toLowerCase()}, ${d.added_by.organisation}), version ${d.version}${d.supports_version ? `; supports version ${d.supports_version}${step(d.supports_version) ? `: ${step(d.supports_version).summary}` : ''}` : ''}</p>
    ${d.superseded ? html`<p class="hint">Superseded${d.superseded_reason ? `: ${d.superseded_reason}` : ''}</p>` : null}
    ${onSupersede && !d.superseded ? html`<button type="button" class="button secondary small" aria-label=${`Mark superseded: ${d.kind_label}, ${d.file_name}`} onClick=${() => onSupersede(d)}>Mark superseded</button>` : null}</li>`)}</ul>`;
}

function AddDocument({ id, incident, docs, trail, onAdded }) {
  const [kind, setKind] = useState('');
  const [supports, setSupports] = useState('');
  const [file, setFile] = useState(null);
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState(null);
  const [errors, setErrors] = useState([]);
  const picker = useRef(null);
  const chosen = (files) => { if (files && files[0]) setFile(files[0]); };
  const submit = async (e) => {
    e.preventDefault();
    const missing = [];
    if (!kind) missing.push({ field: 'kind', message: 'Choose what kind of document this is' });
    if (!file) missing.push({ field: 'file', message: 'Choose a file, or drop one on the box' });
    setErrors(missing);
    if (missing.length) return;
    const form = new FormData();
    form.append('kind', kind);
    if (supports) form.append('supports_version', supports);
    form.append('file', file, file.name);
    setProgress(0);
    try {
      const accepted = await upload(`/v1/incidents/${id}/documents`, form, {
        version: incident.version, key: newKey(), onProgress: (sent, total) => setProgress(Math.round((100 * sent) / total)),
      });
      setFile(null); setKind(''); setSupports('');
      if (picker.current) picker.current.value = '';
      onAdded(accepted);
    } catch (err) {
      setErrors((await explain(err)).map((x) => ({ ...x, field: x.field === 'file_name' ? 'file' : x.field })));
    } finally { setProgress(null); }
  };
  const drop = (e) => { e.preventDefault(); setOver(false); chosen(e.dataTransfer?.files); };
  const fieldError = (name) => errors.filter((x) => x.field === name).map((x) => x.message).join('. ');
  return html`<form class="panel no-print" aria-labelledby="h-add-document" onSubmit=${submit} noValidate>
    <h3 id="h-add-document">Add a document</h3>
    <${ErrorSummary} errors=${errors} />
    <div class=${`form-group ${fieldError('kind') ? 'form-group-error' : ''}`}><label for="f-kind">Kind of document</label>
      ${fieldError('kind') ? html`<p class="error-message"><span class="visually-hidden">Error: </span>${fieldError('kind')}</p>` : null}
      <select id="f-kind" value=${kind} onChange=${(e) => setKind(e.target.value)}>
        <option value="">Choose…</option>${docs.kinds.map((k) => html`<option value=${k.value}>${k.label.charAt(0).toUpperCase() + k.label.slice(1)}</option>`)}</select></div>
    <div class="form-group"><label for="f-supports_version">Step it supports (optional)</label>
      <select id="f-supports_version" value=${supports} onChange=${(e) => setSupports(e.target.value)}>
        <option value="">None</option>${trail.map((t) => html`<option value=${String(t.version)}>Version ${t.version}: ${t.summary || humanise(t.event_type)}</option>`)}</select></div>
    <div class=${`form-group drop-zone ${over ? 'drop-over' : ''} ${fieldError('file') ? 'form-group-error' : ''}`}
      onDragOver=${(e) => { e.preventDefault(); setOver(true); }} onDragLeave=${() => setOver(false)} onDrop=${drop}>
      <label for="f-file">File</label>
      <p class="hint" id="f-file-hint">Choose a file, or drop it here. Up to ${megabytes(docs.max_bytes || 0)}; its type is read from its content.</p>
      ${fieldError('file') ? html`<p class="error-message"><span class="visually-hidden">Error: </span>${fieldError('file')}</p>` : null}
      <input type="file" id="f-file" ref=${picker} aria-describedby="f-file-hint" onChange=${(e) => chosen(e.target.files)} />
      ${file ? html`<p>Chosen: ${file.name} (${bytes(file.size)})</p>` : null}</div>
    ${progress != null ? html`<div class="form-group"><label for="upload-progress">Uploading</label>
      <progress id="upload-progress" max="100" value=${progress}>${progress}%</progress> <span role="status">${progress}% sent</span></div>` : null}
    <div class="button-group"><button type="submit" class="button" disabled=${progress != null}>Add the document</button></div>
  </form>`;
}

/** The incident page's documents section. */
export function DocumentsPanel({ id, incident, docs, trail, onAdded, onSupersede }) {
  return html`<section aria-labelledby="h-documents"><h2 id="h-documents">Documents</h2>
    <${List} docs=${docs} trail=${trail} onSupersede=${onSupersede} />
    ${docs.may_add ? html`<${AddDocument} id=${id} incident=${incident} docs=${docs} trail=${trail} onAdded=${onAdded} />` : null}
  </section>`;
}
