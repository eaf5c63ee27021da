/** Small pieces the pages share: badges, the progress bar, bar charts, error and empty states. */
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

export function Badge({ tone, children }) {
  return html`<span class=${`badge badge-${tone}`}>${children}</span>`;
}

/** A bar for `done` of `total`, the failed part in its own colour; announced as a progressbar. */
export function ProgressBar({ done, failed, total, label }) {
  const percent = total > 0 ? (done / total) * 100 : 0;
  const failedPercent = total > 0 ? (failed / total) * 100 : 0;
  return html`<div class="progress" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax=${total} aria-valuenow=${done} aria-valuetext=${`${done} of ${total} lines done, ${failed} failed`}>
    <div class="progress-done" style=${{ width: `${percent - failedPercent}%` }}></div>
    <div class="progress-failed" style=${{ width: `${failedPercent}%` }}></div>
  </div>`;
}

export function ErrorMessage({ error }) {
  if (!error) return null;
  return html`<p class="error-message" role="alert">${error.message ?? String(error)}</p>`;
}

export function Loading() {
  return html`<p class="muted" aria-busy="true">Loading…</p>`;
}

/** Horizontal bars: `rows` of `{label, value, text}`, scaled to the largest value. */
export function BarChart({ title, rows, empty = 'Nothing in this period.' }) {
  const largest = Math.max(0, ...rows.map((row) => row.value));
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    ${rows.length === 0
      ? html`<p class="muted">${empty}</p>`
      : html`<ul class="bars">
          ${rows.map(
            (row) => html`<li>
              <span class="bar-label" title=${row.label}>${row.label}</span>
              <span class="bar-track" aria-hidden="true"><span class="bar-fill" style=${{ width: `${largest > 0 ? Math.max(1, (row.value / largest) * 100) : 0}%` }}></span></span>
              <span class="bar-value">${row.text}</span>
            </li>`,
          )}
        </ul>`}
  </figure>`;
}
