/** Files: the key's files, each with its metadata, where it is placed (gateway store, provider copies), download and delete. */
import { useEffect, useState } from 'preact/hooks';
import { getJson, request } from '../api.js';
import { ErrorMessage, html, Loading } from '../components.js';
import { bytes, dateTime, integer } from '../lib/format.js';
import { usePolled } from '../poll.js';

function Placement({ file }) {
  const [placement, setPlacement] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    getJson(`/v1/files/${encodeURIComponent(file.id)}/placement`).then(setPlacement, setError);
  }, [file.id]);
  if (error) return html`<${ErrorMessage} error=${error} />`;
  if (placement === null) return html`<${Loading} />`;
  return html`<div class="placement">
    <dl class="facts">
      <div><dt>Lines</dt><dd>${integer(placement.line_count)}</dd></div>
      <div><dt>Batch endpoint</dt><dd>${placement.batch_endpoint ? html`<code>${placement.batch_endpoint}</code>` : '—'}</dd></div>
      <div><dt>Models</dt><dd>${placement.model_groups?.join(', ') || '—'}</dd></div>
      <div><dt>Output of batch</dt><dd>${placement.batch_id ? html`<a href=${`#/batches/${encodeURIComponent(placement.batch_id)}`}>${placement.batch_id}</a>` : '—'}</dd></div>
      <div><dt>SHA-256</dt><dd><code class="hash">${placement.checksum_sha256 ?? '—'}</code></dd></div>
      <div><dt>Stored by Portico</dt><dd>${placement.stored_in_gateway ? 'yes' : 'no'}</dd></div>
    </dl>
    ${placement.copies.length === 0
      ? html`<p class="muted">No copies on deployments.</p>`
      : html`<table class="compact">
          <caption>Copies on deployments</caption>
          <thead><tr><th scope="col">Deployment</th><th scope="col">Model</th><th scope="col">Provider</th><th scope="col">State</th><th scope="col">Provider file id</th></tr></thead>
          <tbody>${placement.copies.map((copy) => html`<tr><td>${copy.deployment_id}</td><td>${copy.model_name ?? '—'}</td><td>${copy.provider ?? '—'}</td><td>${copy.state}</td><td><code>${copy.provider_file_id ?? '—'}</code></td></tr>`)}</tbody>
        </table>`}
  </div>`;
}

export function FilesPage() {
  const { data, error, refresh } = usePolled(() => getJson('/v1/files?limit=100&order=desc'));
  const [open, setOpen] = useState(null);
  const [actionError, setActionError] = useState(null);
  const remove = async (file) => {
    if (!confirm(`Delete ${file.filename} (${file.id})? Its copies on providers are deleted too.`)) return;
    setActionError(null);
    try {
      await request(`/v1/files/${encodeURIComponent(file.id)}`, { method: 'DELETE' });
      await refresh();
    } catch (failure) {
      setActionError(failure);
    }
  };
  const files = data?.data ?? [];
  return html`<section aria-labelledby="files-title">
    <h1 id="files-title">Files</h1>
    <${ErrorMessage} error=${actionError ?? error} />
    ${data === undefined
      ? html`<${Loading} />`
      : files.length === 0
        ? html`<p class="muted">No files yet.</p>`
        : html`<div class="table-wrap"><table class="responsive">
            <caption class="visually-hidden">Files, newest first</caption>
            <thead><tr><th scope="col">File</th><th scope="col">Purpose</th><th scope="col">Size</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${files.map(
                (file) => html`<tr key=${file.id}>
                  <td data-label="File"><strong>${file.filename}</strong><br /><code class="muted">${file.id}</code></td>
                  <td data-label="Purpose">${file.purpose}</td>
                  <td data-label="Size" class="nowrap">${bytes(file.bytes)}</td>
                  <td data-label="Created">${dateTime(file.created_at)}</td>
                  <td data-label="Expires">${dateTime(file.expires_at)}</td>
                  <td><div class="row-actions">
                    <button type="button" class="secondary" aria-expanded=${open === file.id} aria-controls=${`placement-${file.id}`} onClick=${() => setOpen(open === file.id ? null : file.id)}>${open === file.id ? 'Hide details' : 'Details'}</button>
                    <a class="button secondary" href=${`/v1/files/${encodeURIComponent(file.id)}/content`} download>Download</a>
                    <button type="button" class="danger" onClick=${() => remove(file)} aria-label=${`Delete ${file.filename}`}>Delete</button>
                  </div></td>
                </tr>
                ${open === file.id ? html`<tr class="detail-row"><td colspan="6" id=${`placement-${file.id}`}><${Placement} file=${file} /></td></tr>` : ''}`,
              )}
            </tbody>
          </table></div>`}
  </section>`;
}
