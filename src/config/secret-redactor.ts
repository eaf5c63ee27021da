/** The message redactor for a config: knows the upstream keys and the master key by value. */
import { createRedactor, type Redactor } from '../spec/redaction.ts';
import type { PorticoConfig } from './types.ts';

const redactors = new WeakMap<PorticoConfig, Redactor>();

export function redactorFor(config: PorticoConfig): Redactor {
  let redact = redactors.get(config);
  if (redact === undefined) {
    redact = createRedactor([config.masterKey, ...config.deployments.map((deployment) => deployment.apiKey)]);
    redactors.set(config, redact);
  }
  return redact;
}
