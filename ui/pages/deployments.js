/**
 * Deployments (master key): health, cooldowns, and this minute's rpm/tpm use against the limits
 * (`GET /deployments`); with `store_model_in_db`, models added (`POST /model/new`) and deleted
 * (`POST /model/delete`) here, as in LiteLLM's Admin UI.
 */
import { useState } from 'preact/hooks';
import { getJson, sendJson } from '../api.js';
import { Badge, ErrorMessage, html, Loading } from '../components.js';
import { integer } from '../lib/format.js';
import { usePolled } from '../poll.js';

const POLL_MS = 5000;

function Use({ used, limit, unit }) {
  if (limit === null) return html`<span class="muted">no ${unit} limit</span>`;
  const share = limit > 0 ? Math.min(1, (used ?? 0) / limit) : 1;
  return html`<span class="use">
    <meter min="0" max=${limit} low=${limit * 0.7} high=${limit * 0.9} optimum="0" value=${used ?? 0} aria-label=${`${unit} used`}></meter>
    ${integer(used)} / ${integer(limit)} ${unit} <span class="muted">(${Math.round(share * 100)}%)</span>
  </span>`;
}

function textOrNull(text) {
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

/** The `/model/new` body of the form: the fields filled in, over the extra params given as JSON. */
export function newModelBody(fields) {
  const extra = textOrNull(fields.extra_params.value);
  let params = {};
  if (extra !== null) {
    try {
      params = JSON.parse(extra);
    } catch {
      throw new Error('Other litellm_params must be a JSON object, e.g. {"api_version": "2025-03-01-preview"}.');
    }
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error('Other litellm_params must be a JSON object.');
  }
  const set = (name, value) => {
    if (value !== null) params[name] = value;
  };
  set('model', textOrNull(fields.model.value));
  set('api_base', textOrNull(fields.api_base.value));
  set('api_key', textOrNull(fields.api_key.value));
  const rpm = textOrNull(fields.rpm.value);
  const tpm = textOrNull(fields.tpm.value);
  set('rpm', rpm === null ? null : Number(rpm));
  set('tpm', tpm === null ? null : Number(tpm));
  return { model_name: fields.model_name.value.trim(), litellm_params: params };
}

function AddModel({ onAdded }) {
  const [formError, setFormError] = useState(null);
  const [warnings, setWarnings] = useState([]);
  const add = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setFormError(null);
    setWarnings([]);
    try {
      const added = await sendJson('POST', '/model/new', newModelBody(form.elements));
      form.reset();
      setWarnings(added.warnings ?? []);
      await onAdded();
    } catch (failure) {
      setFormError(failure);
    }
  };
  return html`<details class="card">
    <summary>Add a model</summary>
    <p class="muted">Kept in the database and served by every instance at once, as an entry of the config file's <code>model_list</code> would be; the API key is stored encrypted.</p>
    <form onSubmit=${add} class="key-form">
      <label>Model name (what clients send) <input name="model_name" required autocomplete="off" /></label>
      <label>Provider model <input name="model" required placeholder="e.g. openai/gpt-4o, azure/prod-4o" autocomplete="off" /></label>
      <label>API base <input name="api_base" placeholder="empty: the provider's default" autocomplete="off" /></label>
      <label>API key <input name="api_key" type="password" autocomplete="off" /></label>
      <label>Requests per minute <input name="rpm" type="number" min="0" step="1" inputmode="numeric" /></label>
      <label>Tokens per minute <input name="tpm" type="number" min="0" step="1" inputmode="numeric" /></label>
      <label class="wide">Other litellm_params (JSON) <textarea name="extra_params" rows="2" placeholder='{"api_version": "2025-03-01-preview"}'></textarea></label>
      <${ErrorMessage} error=${formError} />
      ${warnings.length > 0 ? html`<ul class="muted" role="status">${warnings.map((warning) => html`<li key=${warning}>${warning}</li>`)}</ul>` : ''}
      <button type="submit">Add model</button>
    </form>
  </details>`;
}

export function DeploymentsPage() {
  const { data, error, refresh } = usePolled(() => getJson('/deployments'), () => POLL_MS);
  const [actionError, setActionError] = useState(null);
  const remove = async (deployment) => {
    if (!confirm(`Delete model ${deployment.model_name} (${deployment.id})? Every instance stops serving it.`)) return;
    setActionError(null);
    try {
      await sendJson('POST', '/model/delete', { id: deployment.id });
      await refresh();
    } catch (failure) {
      setActionError(failure);
    }
  };
  return html`<section aria-labelledby="deployments-title">
    <h1 id="deployments-title">Deployments</h1>
    <p class="muted">Use over the last minute, live requests and batch lines together; refreshed every ${POLL_MS / 1000} s.</p>
    ${data?.store_model_in_db ? html`<${AddModel} onAdded=${refresh} />` : ''}
    <${ErrorMessage} error=${actionError ?? error} />
    ${data === undefined
      ? html`<${Loading} />`
      : html`<div class="table-wrap"><table class="responsive">
          <caption class="visually-hidden">Deployments</caption>
          <thead><tr><th scope="col">Deployment</th><th scope="col">Model name</th><th scope="col">Provider</th><th scope="col">Health</th><th scope="col">Requests per minute</th><th scope="col">Tokens per minute</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${data.data.map(
              (deployment) => html`<tr key=${deployment.id}>
                <td data-label="Deployment"><code>${deployment.id}</code><br /><span class="muted">${deployment.model}</span></td>
                <td data-label="Model name">${deployment.model_name}</td>
                <td data-label="Provider">${deployment.provider}${deployment.batch_mode === 'emulate' ? html` <span class="muted">(batches emulated)</span>` : ''}</td>
                <td data-label="Health">${deployment.status === 'healthy'
                  ? html`<${Badge} tone="success">healthy<//>`
                  : html`<${Badge} tone="danger">cooling down, ${deployment.cooldown_remaining_seconds}s left<//>`}</td>
                <td data-label="RPM"><${Use} used=${deployment.rpm_used} limit=${deployment.rpm_limit} unit="rpm" /></td>
                <td data-label="TPM"><${Use} used=${deployment.tpm_used} limit=${deployment.tpm_limit} unit="tpm" /></td>
                <td>${deployment.db_model
                  ? html`<div class="row-actions"><${Badge} tone="neutral">added here<//> <button type="button" class="danger" onClick=${() => remove(deployment)} aria-label=${`Delete model ${deployment.model_name}`}>Delete</button></div>`
                  : html`<span class="muted">config file</span>`}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}
  </section>`;
}
