/**
 * One batch: live progress, times, cost, downloads of its files, cancel, the per-line error
 * summary (read from the error file), and "retry the failed lines" (a new batch of exactly the
 * input lines that failed).
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, request, sendJson } from '../api.js';
import { Badge, ErrorMessage, html, Loading, ProgressBar } from '../components.js';
import { badgeOf, etaSeconds, finishedAt, isTerminal, progressOf } from '../lib/batch-state.js';
import { summariseErrors } from '../lib/error-summary.js';
import { dateTime, duration, integer, usd } from '../lib/format.js';
import { linesOf, recordsOf } from '../lib/jsonl.js';
import { failedCustomIds, linesToRetry } from '../lib/retry-lines.js';
import { usePolled } from '../poll.js';

const POLL_MS = 1500;
/** After a failed read (a batch this key cannot see, Portico away): try again, but slowly. */
const ERROR_RETRY_MS = 10_000;

async function errorRecords(fileId) {
  return recordsOf(linesOf(await request(`/v1/files/${encodeURIComponent(fileId)}/content`)));
}

/** Uploads the failed input lines as a new file and starts a batch of them; answers the new batch. */
async function retryFailedLines(batch) {
  const ids = await failedCustomIds(await errorRecords(batch.error_file_id));
  const input = await request(`/v1/files/${encodeURIComponent(batch.input_file_id)}/content`);
  const lines = await linesToRetry(linesOf(input), ids);
  if (lines.length === 0) throw new Error('None of the failed lines were found in the input file.');
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([`${lines.join('\n')}\n`], { type: 'application/jsonl' }), `retry-of-${batch.id}.jsonl`);
  const file = await (await request('/v1/files', { method: 'POST', form })).json();
  return sendJson('POST', '/v1/batches', {
    input_file_id: file.id,
    endpoint: batch.endpoint,
    completion_window: batch.completion_window ?? '24h',
    metadata: { retry_of: batch.id },
  });
}

function ErrorSummary({ batch }) {
  const [summary, setSummary] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let current = true;
    errorRecords(batch.error_file_id)
      .then(summariseErrors)
      .then((result) => current && setSummary(result), (failure) => current && setError(failure));
    return () => {
      current = false;
    };
  }, [batch.error_file_id]);
  if (error) return html`<${ErrorMessage} error=${error} />`;
  if (summary === null) return html`<${Loading} />`;
  return html`<div>
    <p>${summary.total} failed line${summary.total === 1 ? '' : 's'}, ${summary.codes.length} error code${summary.codes.length === 1 ? '' : 's'}.</p>
    <div class="table-wrap"><table class="errors">
      <caption class="visually-hidden">Failed lines by error code</caption>
      <thead><tr><th scope="col">Error code</th><th scope="col">Lines</th><th scope="col">Examples</th></tr></thead>
      <tbody>
        ${summary.codes.map(
          (group) => html`<tr>
            <th scope="row"><code>${group.code}</code></th>
            <td>${group.count}</td>
            <td><ul class="examples">${group.examples.map(
              (example) => html`<li><code>${example.custom_id ?? '(no custom_id)'}</code>${example.status ? html` <span class="muted">HTTP ${example.status}</span>` : ''}: ${example.message || html`<span class="muted">no message</span>`}</li>`,
            )}</ul></td>
          </tr>`,
        )}
      </tbody>
    </table></div>
  </div>`;
}

function FileLink({ id, label }) {
  if (!id) return html`<span class="muted">no ${label.toLowerCase()}</span>`;
  return html`<a class="button secondary" href=${`/v1/files/${encodeURIComponent(id)}/content`} download>${label}</a>`;
}

export function BatchPage({ id }) {
  const { data: batch, error, refresh } = usePolled(() => getJson(`/v1/batches/${encodeURIComponent(id)}`), (current) => (current === undefined ? ERROR_RETRY_MS : isTerminal(current) ? null : POLL_MS), [id]);
  const [actionError, setActionError] = useState(null);
  const [busy, setBusy] = useState(null);
  if (batch === undefined) return error ? html`<${ErrorMessage} error=${error} />` : html`<${Loading} />`;

  const progress = progressOf(batch);
  const badge = badgeOf(batch);
  const act = (name, action) => async () => {
    setBusy(name);
    setActionError(null);
    try {
      await action();
    } catch (failure) {
      setActionError(failure);
    } finally {
      setBusy(null);
    }
  };
  const cancel = act('cancel', async () => {
    if (!confirm(`Cancel batch ${batch.id}? Lines not yet run will not run.`)) return;
    await sendJson('POST', `/v1/batches/${encodeURIComponent(batch.id)}/cancel`);
    await refresh();
  });
  const retry = act('retry', async () => {
    const created = await retryFailedLines(batch);
    location.hash = `#/batches/${encodeURIComponent(created.id)}`;
  });
  const canCancel = ['validating', 'in_progress', 'finalizing'].includes(batch.status);
  const canRetry = isTerminal(batch) && progress.failed > 0 && batch.error_file_id;

  return html`<article aria-labelledby="batch-title">
    <p><a href="#/batches">← All batches</a></p>
    <h1 id="batch-title">Batch <code>${batch.id}</code></h1>
    <div class="status-line" aria-live="polite">
      <${Badge} tone=${badge.tone}>${badge.label}<//>
      <span class="counts">${progress.completed} completed · ${progress.failed} failed · ${progress.total} total${isTerminal(batch) ? '' : ` · ETA ${duration(etaSeconds(batch, Date.now() / 1000))}`}</span>
    </div>
    <${ProgressBar} done=${progress.done} failed=${progress.failed} total=${progress.total} label="Batch progress" />
    <dl class="facts">
      <div><dt>Model</dt><dd>${batch.model ?? '—'}</dd></div>
      <div><dt>Provider</dt><dd>${batch.portico?.provider ?? '—'}${batch.portico?.execution ? html` <span class="muted">(${batch.portico.execution.replace('_', ' ')})</span>` : ''}</dd></div>
      <div><dt>Endpoint</dt><dd><code>${batch.endpoint}</code></dd></div>
      <div><dt>Created</dt><dd>${dateTime(batch.created_at)}</dd></div>
      <div><dt>Started</dt><dd>${dateTime(batch.in_progress_at)}</dd></div>
      <div><dt>Finished</dt><dd>${dateTime(finishedAt(batch))}</dd></div>
      <div><dt>Cost</dt><dd>${usd(batch.portico?.cost)}</dd></div>
      <div><dt>Tokens</dt><dd>${batch.usage ? `${integer(batch.usage.input_tokens)} in · ${integer(batch.usage.output_tokens)} out` : '—'}</dd></div>
      ${batch.metadata?.retry_of ? html`<div><dt>Retry of</dt><dd><a href=${`#/batches/${encodeURIComponent(batch.metadata.retry_of)}`}>${batch.metadata.retry_of}</a></dd></div>` : ''}
    </dl>
    ${batch.errors?.data?.length ? html`<section><h2>Batch errors</h2><ul>${batch.errors.data.map((item) => html`<li><code>${item.code}</code>: ${item.message}${item.line ? ` (line ${item.line})` : ''}</li>`)}</ul></section>` : ''}
    <div class="actions">
      <a class="button secondary" href=${`/v1/files/${encodeURIComponent(batch.input_file_id)}/content`} download>Input file</a>
      <${FileLink} id=${batch.output_file_id} label="Output file" />
      <${FileLink} id=${batch.error_file_id} label="Error file" />
      ${canCancel ? html`<button type="button" class="danger" onClick=${cancel} disabled=${busy !== null}>${busy === 'cancel' ? 'Cancelling…' : 'Cancel batch'}</button>` : ''}
      ${canRetry ? html`<button type="button" onClick=${retry} disabled=${busy !== null}>${busy === 'retry' ? 'Starting a new batch…' : `Retry the ${progress.failed} failed line${progress.failed === 1 ? '' : 's'}`}</button>` : ''}
    </div>
    <${ErrorMessage} error=${actionError ?? error} />
    ${batch.error_file_id ? html`<section aria-labelledby="errors-title"><h2 id="errors-title">Errors by code</h2><${ErrorSummary} batch=${batch} /></section>` : ''}
  </article>`;
}
