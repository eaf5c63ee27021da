/** Keys (master key): list, create with a model allowlist, limits and a budget (the secret is shown once), delete. */
import { useEffect, useState } from 'preact/hooks';
import { getJson, sendJson } from '../api.js';
import { ErrorMessage, html, Loading } from '../components.js';
import { integer, usd } from '../lib/format.js';
import { usePolled } from '../poll.js';

function numberOrNull(text) {
  const trimmed = text.trim();
  return trimmed === '' ? null : Number(trimmed);
}

function textOrNull(text) {
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

/** The `/key/generate` body of the form; fields left empty are not sent. */
function generateBody(form, models) {
  const fields = form.elements;
  const body = { models };
  const set = (name, value) => {
    if (value !== null) body[name] = value;
  };
  set('key_alias', textOrNull(fields.key_alias.value));
  set('user_id', textOrNull(fields.user_id.value));
  set('team_id', textOrNull(fields.team_id.value));
  set('duration', textOrNull(fields.duration.value));
  set('rpm_limit', numberOrNull(fields.rpm_limit.value));
  set('tpm_limit', numberOrNull(fields.tpm_limit.value));
  set('max_budget', numberOrNull(fields.max_budget.value));
  if (body.max_budget !== undefined) set('budget_duration', textOrNull(fields.budget_duration.value));
  return body;
}

function NewKeySecret({ created, onDone }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(created.key).then(() => setCopied(true), () => undefined);
  };
  return html`<div class="card secret" role="status">
    <h2>Key created: copy its secret now</h2>
    <p>This is the only time the secret is shown. Portico stores only its hash.</p>
    <p><label for="new-secret">Secret of ${created.key_alias ?? created.token}</label>
      <input id="new-secret" class="secret-value" readonly value=${created.key} onFocus=${(event) => event.currentTarget.select()} /></p>
    <button type="button" class="secondary" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
    <button type="button" onClick=${onDone}>Done</button>
  </div>`;
}

export function KeysPage() {
  const { data, error, refresh } = usePolled(() => getJson('/key/list?return_full_object=true&size=100'));
  const [models, setModels] = useState([]);
  const [chosen, setChosen] = useState(new Set());
  const [created, setCreated] = useState(null);
  const [formError, setFormError] = useState(null);
  const [actionError, setActionError] = useState(null);
  useEffect(() => {
    getJson('/v1/models').then((list) => setModels(list.data.map((model) => model.id)), setFormError);
  }, []);

  const toggle = (model) => {
    const next = new Set(chosen);
    if (next.has(model)) next.delete(model);
    else next.add(model);
    setChosen(next);
  };
  const create = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setFormError(null);
    try {
      const key = await sendJson('POST', '/key/generate', generateBody(form, [...chosen]));
      form.reset();
      setChosen(new Set());
      setCreated(key);
      await refresh();
    } catch (failure) {
      setFormError(failure);
    }
  };
  const remove = async (key) => {
    if (!confirm(`Delete key ${key.key_alias ?? key.token}? Its running batches are cancelled.`)) return;
    setActionError(null);
    try {
      await sendJson('POST', '/key/delete', { keys: [key.token] });
      await refresh();
    } catch (failure) {
      setActionError(failure);
    }
  };
  const keys = data?.keys ?? [];
  return html`<section aria-labelledby="keys-title">
    <h1 id="keys-title">Keys</h1>
    ${created ? html`<${NewKeySecret} created=${created} onDone=${() => setCreated(null)} />` : ''}
    <details class="card" open=${keys.length === 0}>
      <summary>Create a key</summary>
      <form onSubmit=${create} class="key-form">
        <label>Alias <input name="key_alias" autocomplete="off" /></label>
        <label>User id <input name="user_id" autocomplete="off" /></label>
        <label>Team id <input name="team_id" autocomplete="off" /></label>
        <label>Expires after <input name="duration" placeholder="e.g. 30d (empty: never)" autocomplete="off" /></label>
        <label>Requests per minute <input name="rpm_limit" type="number" min="0" step="1" inputmode="numeric" /></label>
        <label>Tokens per minute <input name="tpm_limit" type="number" min="0" step="1" inputmode="numeric" /></label>
        <label>Budget (USD) <input name="max_budget" type="number" min="0" step="any" inputmode="decimal" /></label>
        <label>Budget period <input name="budget_duration" placeholder="e.g. 30d (empty: for life)" autocomplete="off" /></label>
        <fieldset class="models">
          <legend>Models (none ticked: every model)</legend>
          ${models.map((model) => html`<label class="check"><input type="checkbox" name="models" value=${model} checked=${chosen.has(model)} onChange=${() => toggle(model)} /> ${model}</label>`)}
        </fieldset>
        <${ErrorMessage} error=${formError} />
        <button type="submit">Create key</button>
      </form>
    </details>
    <${ErrorMessage} error=${actionError ?? error} />
    ${data === undefined
      ? html`<${Loading} />`
      : keys.length === 0
        ? html`<p class="muted">No virtual keys yet.</p>`
        : html`<div class="table-wrap"><table class="responsive">
            <caption class="visually-hidden">Virtual keys, newest first</caption>
            <thead><tr><th scope="col">Key</th><th scope="col">Owner</th><th scope="col">Models</th><th scope="col">Limits</th><th scope="col">Spend</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${keys.map(
                (key) => html`<tr key=${key.token}>
                  <td data-label="Key"><strong>${key.key_alias ?? '(no alias)'}</strong><br /><code class="muted">${key.token}</code></td>
                  <td data-label="Owner">${key.team_id ? `team ${key.team_id}` : key.user_id ? `user ${key.user_id}` : '—'}</td>
                  <td data-label="Models">${key.models.length === 0 ? 'all' : key.models.join(', ')}</td>
                  <td data-label="Limits">${key.rpm_limit !== null ? `${integer(key.rpm_limit)} rpm` : ''}${key.rpm_limit !== null && key.tpm_limit !== null ? ' · ' : ''}${key.tpm_limit !== null ? `${integer(key.tpm_limit)} tpm` : ''}${key.rpm_limit === null && key.tpm_limit === null ? '—' : ''}</td>
                  <td data-label="Spend">${usd(key.spend)}${key.max_budget != null ? ` of ${usd(key.max_budget)}` : ''}</td>
                  <td data-label="Expires">${key.expires ? new Date(key.expires).toLocaleString() : 'never'}</td>
                  <td><div class="row-actions"><button type="button" class="danger" onClick=${() => remove(key)} aria-label=${`Delete key ${key.key_alias ?? key.token}`}>Delete</button></div></td>
                </tr>`,
              )}
            </tbody>
          </table></div>`}
  </section>`;
}
