/** Go to a page of the front end (hash routes: "#/incidents/…"). */
export function navigate(to) { window.location.hash = to; }
