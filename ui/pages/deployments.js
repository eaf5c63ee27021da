/** Deployments (master key): health, cooldowns, and this minute's rpm/tpm use against the limits (`GET /deployments`). */
import { getJson } from '../api.js';
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

export function DeploymentsPage() {
  const { data, error } = usePolled(() => getJson('/deployments'), () => POLL_MS);
  return html`<section aria-labelledby="deployments-title">
    <h1 id="deployments-title">Deployments</h1>
    <p class="muted">Use over the last minute, live requests and batch lines together; refreshed every ${POLL_MS / 1000} s.</p>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? html`<${Loading} />`
      : html`<div class="table-wrap"><table class="responsive">
          <caption class="visually-hidden">Deployments</caption>
          <thead><tr><th scope="col">Deployment</th><th scope="col">Model name</th><th scope="col">Provider</th><th scope="col">Health</th><th scope="col">Requests per minute</th><th scope="col">Tokens per minute</th></tr></thead>
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
              </tr>`,
            )}
          </tbody>
        </table></div>`}
  </section>`;
}
