/** The message redactor for a config: knows the upstream keys and the master key by value. */
import type { PorticoConfig } from '../config/types.ts';
import { createRedactor } from './error-to-response.ts';

const redactors = new WeakMap<PorticoConfig, (text: string) => string>();

export function redactorFor(config: PorticoConfig): (text: string) => string {
  let redact = redactors.get(config);
  if (redact === undefined) {
    redact = createRedactor([config.masterKey, ...config.deployments.map((deployment) => deployment.apiKey)]);
    redactors.set(config, redact);
  }
  return redact;
}
