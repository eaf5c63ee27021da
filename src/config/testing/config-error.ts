/** Test helper: runs `run`, which must reject the config, and answers the ConfigError it threw. */
import assert from 'node:assert/strict';
import { ConfigError } from '../../spec/errors.ts';

export function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}
