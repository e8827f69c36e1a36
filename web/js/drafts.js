// Drafts kept in this browser: each belongs to one signed-in person (their subject and
// organisation), expires after DRAFT_HOURS, and every one is removed at sign-out. A draft of
// someone else, or an expired one, is never shown and is removed when it is found.
const PREFIX = 'cims.draft.';
export const DRAFT_HOURS = 8; // one working shift

const owner = (who) => (who ? `${who.organisation}|${who.sub}` : null);

/** The draft `name` of `who`, or null (none, someone else's, or expired: those are removed). */
export function loadDraft(name, who, now = Date.now()) {
  forgetOthers(who, now);
  const key = `${PREFIX}${name}`;
  let found = null;
  try { found = JSON.parse(localStorage.getItem(key) || 'null'); } catch { found = null; }
  if (!found) return null;
  if (found.owner !== owner(who) || !(found.expires > now)) {
    localStorage.removeItem(key);
    return null;
  }
  return found.data;
}

/** Keep `data` as `who`'s draft `name` for DRAFT_HOURS from now. */
export function saveDraft(name, who, data, now = Date.now()) {
  if (!who) return;
  localStorage.setItem(`${PREFIX}${name}`, JSON.stringify({ owner: owner(who), expires: now + DRAFT_HOURS * 3600e3, data }));
}

export function removeDraft(name) { localStorage.removeItem(`${PREFIX}${name}`); }

function forgetOthers(who, now) {
  for (const key of Object.keys(localStorage)) {
    if (!key.startsWith(PREFIX)) continue;
    let found = null;
    try { found = JSON.parse(localStorage.getItem(key) || 'null'); } catch { found = null; }
    if (!found || found.owner !== owner(who) || !(found.expires > now)) localStorage.removeItem(key);
  }
}

/** At sign-out: nothing of this front end stays in the browser's storage (drafts, the token,
 * an unfinished sign-in), including a draft under the old, unowned key. */
export function forgetEverything() {
  for (const store of [localStorage, sessionStorage]) {
    for (const key of Object.keys(store)) if (key.startsWith('cims.')) store.removeItem(key);
  }
}
