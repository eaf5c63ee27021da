/**
 * LiteLLM's `os.environ/NAME`: any string value of that form is replaced by the environment
 * variable, anywhere in the file. A variable that is not set is not an error here: it is
 * recorded, and `load-config.ts` decides by its path whether Portico needs it (an error naming
 * the variable and the key) or not (a warning; LiteLLM configs reference many variables for
 * features Portico does not have, which must not stop it).
 */
import type { ConfigPath } from './config-path.ts';

const PREFIX = 'os.environ/';

export type Environment = Readonly<Record<string, string | undefined>>;

/** An `os.environ/NAME` of the file, and whether its variable was set (unset: the value was left out). */
export interface EnvironmentReference {
  readonly path: ConfigPath;
  /** Empty when the reference names no variable. */
  readonly name: string;
  /** As written: `os.environ/NAME`. */
  readonly reference: string;
  readonly resolved: boolean;
}

export type MissingReference = EnvironmentReference;

export function describeMissing(missing: MissingReference): string {
  return missing.name.length === 0
    ? `"${missing.reference}" names no environment variable`
    : `environment variable ${missing.name} is not set (referenced as os.environ/${missing.name})`;
}

/** `value` with its references resolved; each reference met is recorded in `references`. */
export function resolveEnvironmentReferences(value: unknown, env: Environment, references: EnvironmentReference[], path: ConfigPath = []): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(PREFIX)) return value;
    const name = value.slice(PREFIX.length).trim();
    const resolved = name.length === 0 ? undefined : env[name];
    references.push({ path, name, reference: value, resolved: resolved !== undefined });
    return resolved;
  }
  if (Array.isArray(value)) return value.map((item, index) => resolveEnvironmentReferences(item, env, references, [...path, index]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = resolveEnvironmentReferences(item, env, references, [...path, key]);
    return out;
  }
  return value;
}
