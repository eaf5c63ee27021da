/** Batches: every batch the key may see, with live progress while any runs; filters by status and model. */
import { useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { Badge, ErrorMessage, html, Loading, ProgressBar } from '../components.js';
import { badgeOf, etaSeconds, finishedAt, isTerminal, progressOf } from '../lib/batch-state.js';
import { dateTime, duration, usd } from '../lib/format.js';
import { usePolled } from '../poll.js';

/** While a batch runs the list is read every 2 s; otherwise every 10 s, so new batches show up. */
const RUNNING_POLL_MS = 2000;
const IDLE_POLL_MS = 10_000;
const STATUS_FILTERS = ['all', 'running', 'completed', 'with failed lines', 'failed', 'expired', 'cancelled'];

function matchesStatus(batch, filter) {
  switch (filter) {
    case 'all':
      return true;
    case 'running':
      return !isTerminal(batch);
    case 'with failed lines':
      return (batch.request_counts?.failed ?? 0) > 0;
    default:
      return batch.status === filter;
  }
}

export function BatchRow({ batch, now }) {
  const progress = progressOf(batch);
  const badge = badgeOf(batch);
  const eta = etaSeconds(batch, now);
  return html`<tr>
    <td data-label="Batch"><a href=${`#/batches/${encodeURIComponent(batch.id)}`}>${batch.id}</a></td>
    <td data-label="Status"><${Badge} tone=${badge.tone}>${badge.label}<//></td>
    <td data-label="Progress" class="progress-cell">
      <${ProgressBar} done=${progress.done} failed=${progress.failed} total=${progress.total} label=${`Progress of ${batch.id}`} />
      <span class="counts">${progress.completed} completed · ${progress.failed} failed · ${progress.total} total</span>
    </td>
    <td data-label="ETA">${isTerminal(batch) ? '—' : duration(eta)}</td>
    <td data-label="Provider">${batch.portico?.provider ?? '—'}</td>
    <td data-label="Model">${batch.model ?? '—'}</td>
    <td data-label="Created">${dateTime(batch.created_at)}</td>
    <td data-label="Finished">${dateTime(finishedAt(batch))}</td>
    <td data-label="Cost">${usd(batch.portico?.cost)}</td>
  </tr>`;
}

export function BatchesPage() {
  const [status, setStatus] = useState('all');
  const [model, setModel] = useState('all');
  const { data, error } = usePolled(() => getJson('/v1/batches?limit=100'), (list) => (list?.data.some((batch) => !isTerminal(batch)) ? RUNNING_POLL_MS : IDLE_POLL_MS));
  const batches = data?.data ?? [];
  const models = [...new Set(batches.map((batch) => batch.model).filter(Boolean))].sort();
  const shown = batches.filter((batch) => matchesStatus(batch, status) && (model === 'all' || batch.model === model));
  const now = Date.now() / 1000;
  return html`<section aria-labelledby="batches-title">
    <h1 id="batches-title">Batches</h1>
    <div class="filters" role="group" aria-label="Filters">
      <label>Status
        <select value=${status} onChange=${(event) => setStatus(event.currentTarget.value)}>
          ${STATUS_FILTERS.map((value) => html`<option value=${value}>${value}</option>`)}
        </select>
      </label>
      <label>Model
        <select value=${model} onChange=${(event) => setModel(event.currentTarget.value)}>
          <option value="all">all</option>
          ${models.map((value) => html`<option value=${value}>${value}</option>`)}
        </select>
      </label>
    </div>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? html`<${Loading} />`
      : shown.length === 0
        ? html`<p class="muted">No batches${batches.length > 0 ? ' match these filters' : ' yet'}.</p>`
        : html`<div class="table-wrap"><table class="responsive">
            <caption class="visually-hidden">Batches, newest first</caption>
            <thead><tr><th scope="col">Batch</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">ETA</th><th scope="col">Provider</th><th scope="col">Model</th><th scope="col">Created</th><th scope="col">Finished</th><th scope="col">Cost</th></tr></thead>
            <tbody>${shown.map((batch) => html`<${BatchRow} key=${batch.id} batch=${batch} now=${now} />`)}</tbody>
          </table></div>`}
  </section>`;
}
