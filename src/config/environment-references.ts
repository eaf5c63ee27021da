/**
 * LiteLLM's `os.environ/NAME`: any string value of that form is replaced by the environment
 * variable, anywhere in the file. A variable that is not set is an error naming it and the key.
 */
import { type ConfigPath, ConfigProblems } from './config-path.ts';

const PREFIX = 'os.environ/';

export type Environment = Readonly<Record<string, string | undefined>>;

export function resolveEnvironmentReferences(value: unknown, env: Environment, problems: ConfigProblems, path: ConfigPath = []): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(PREFIX)) return value;
    const name = value.slice(PREFIX.length).trim();
    const resolved = env[name];
    if (name.length === 0) {
      problems.error(path, `"${value}" names no environment variable`);
      return undefined;
    }
    if (resolved === undefined) {
      problems.error(path, `environment variable ${name} is not set (referenced as os.environ/${name})`);
      return undefined;
    }
    return resolved;
  }
  if (Array.isArray(value)) return value.map((item, index) => resolveEnvironmentReferences(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = resolveEnvironmentReferences(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}
