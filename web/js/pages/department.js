// Department: statistics as charts (by type and month, time to close, overdue rates), with
// every number also in a table.
import { html, useEffect, useRef, useState } from '../html.js';
import { get } from '../api.js';
import { humanise } from '../format.js';
import { chartLibrary } from '../charts.js';

function BarChart({ title, counts, horizontal = false }) {
  const canvas = useRef(null);
  useEffect(() => {
    let chart;
    let shown = true; // the page may be left before the library arrives
    chartLibrary().then((Chart) => {
      if (!shown || !canvas.current) return;
      chart = new Chart(canvas.current, {
        type: 'bar',
        data: { labels: Object.keys(counts), datasets: [{ label: title, data: Object.values(counts), backgroundColor: '#1d70b8' }] },
        options: {
          indexAxis: horizontal ? 'y' : 'x', animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { display: false } }, scales: { [horizontal ? 'x' : 'y']: { beginAtZero: true, ticks: { precision: 0 } } },
        },
      });
    });
    return () => { shown = false; chart?.destroy(); };
  }, [counts]);
  const rows = Object.entries(counts);
  const summary = rows.map(([k, v]) => `${k}: ${v}`).join('; ');
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div class="chart-box" style=${{ height: `${horizontal ? Math.max(160, rows.length * 24) : 240}px` }}>
      <canvas ref=${canvas} role="img" aria-label=${`${title}. ${summary}`}></canvas></div>
    <details><summary>${title} as a table</summary>
      <table class="table"><thead><tr><th scope="col">${title.split(' by ')[1] ? humanise(title.split(' by ')[1]) : 'Group'}</th><th scope="col">Incidents</th></tr></thead>
      <tbody>${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table></details>
  </figure>`;
}

const percent = (x) => (x == null ? '—' : `${(x * 100).toFixed(1)}%`);

const MONTH = new Intl.DateTimeFormat('en-AU', { month: 'short', year: 'numeric', timeZone: 'UTC' });
/** Counts by month ("2026-10") keyed as a person reads a month ("Oct 2026"). */
export function byMonthInWords(counts) {
  return Object.fromEntries(Object.entries(counts || {}).map(([k, v]) => {
    const m = /^(\d{4})-(\d{2})$/.exec(k);
    return [m ? MONTH.format(new Date(Date.UTC(+m[1], +m[2] - 1, 1))) : k, v];
  }));
}

export function Department() {
  const [stats, setStats] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { get('/v1/statistics').then(setStats).catch((e) => setError(e.message)); }, []);
  if (error) return html`<h1 tabindex="-1">Statistics</h1><div class="error-summary" role="alert"><h2>There is a problem</h2><p>${error}</p></div>`;
  if (!stats) return html`<h1 tabindex="-1">Statistics</h1><p role="status">Loading…</p>`;
  const figures = [
    ['Incidents', stats.incidents], ['Open', stats.open], ['Closed', stats.closed],
    ['Median days to close', stats.median_days_to_close ?? '—'],
    ['Overdue now', stats.overdue_now], ['Overdue rate (open incidents)', percent(stats.overdue_rate)],
    ['Ever late', percent(stats.ever_late_rate)],
  ];
  return html`<h1 tabindex="-1">Statistics</h1>
    <p class="lede">Figures for the incidents you can see, recorded here. ${stats.imported && stats.imported.incidents ? `Records imported from the old system are counted apart: ${stats.imported.incidents} (${stats.imported.open} open, ${stats.imported.closed} closed there or here).` : ''}</p>
    <div class="figures">${figures.map(([k, v]) => html`<div class="figure"><span class="figure-value">${v}</span><span class="figure-label">${k}</span></div>`)}</div>
    <div class="table-wrap"><table class="table"><caption>The numbers</caption><tbody>
      ${figures.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}
      ${Object.entries(stats.by_impact || {}).map(([k, v]) => html`<tr><th scope="row">Impact: ${humanise(k)}</th><td>${v}</td></tr>`)}
      ${Object.entries(stats.by_organisation || {}).map(([k, v]) => html`<tr><th scope="row">Organisation: ${k}</th><td>${v}</td></tr>`)}
    </tbody></table></div>
    <div class="charts">
      <${BarChart} title="Incidents by month reported" counts=${byMonthInWords(stats.by_month)} />
      ${stats.imported && stats.imported.incidents ? html`<${BarChart} title="Imported from the old system by month reported" counts=${byMonthInWords(stats.imported.by_month)} />` : null}
      <${BarChart} title="Incidents by type" counts=${stats.by_type || {}} horizontal=${true} />
      <${BarChart} title="Incidents by organisation" counts=${stats.by_organisation || {}} horizontal=${true} />
      <${BarChart} title="Open incidents: on time and overdue" counts=${{ 'On time': Math.max(0, (stats.open || 0) - (stats.overdue_now || 0)), Overdue: stats.overdue_now || 0 }} horizontal=${true} />
    </div>`;
}
