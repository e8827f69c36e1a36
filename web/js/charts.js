// Chart.js (vendored, pinned, licence beside it), loaded only by the pages that draw charts.
let loading;
export function chartLibrary() {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/vendor/chart-4.5.0.umd.min.js';
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error('the chart library did not load'));
    document.head.append(script);
  });
  return loading;
}
