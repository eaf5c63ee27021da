/** The message redactor for a config: knows the upstream keys and the master key by value. */
import { createRedactor, type Redactor } from '../spec/redaction.ts';
import type { PorticoConfig } from './types.ts';

/**
 * Config keys whose values are secrets (`api_key`, `aws_secret_access_key`, `aws_access_key_id`,
 * `vertex_credentials`, `password`, ...): named in messages and answers, their values never shown.
 */
const SECRET_NAME = /(key|key_id|password|secret|token|credentials?)$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

interface ConfigSecrets {
  readonly known: Set<string>;
  current: Redactor;
  readonly redact: Redactor;
}

const redactors = new WeakMap<PorticoConfig, ConfigSecrets>();

function secretsOf(config: PorticoConfig): ConfigSecrets {
  let secrets = redactors.get(config);
  if (secrets === undefined) {
    const known = new Set([config.masterKey, ...config.deployments.map((deployment) => deployment.apiKey)].filter((secret): secret is string => secret !== undefined));
    const state: ConfigSecrets = { known, current: createRedactor([...known]), redact: (text) => state.current(text) };
    secrets = state;
    redactors.set(config, secrets);
  }
  return secrets;
}

export function redactorFor(config: PorticoConfig): Redactor {
  return secretsOf(config).redact;
}

/**
 * Secrets that came after the config (the keys of models added through the API): every redactor
 * of the config removes them from then on. A secret is never forgotten, even when its model is.
 */
export function addSecrets(config: PorticoConfig, secrets: readonly (string | undefined)[]): void {
  const state = secretsOf(config);
  const before = state.known.size;
  for (const secret of secrets) if (secret !== undefined) state.known.add(secret);
  if (state.known.size !== before) state.current = createRedactor([...state.known]);
}
