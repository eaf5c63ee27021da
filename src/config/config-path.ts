/** Formats a location in the config file as users read it: `model_list[2].litellm_params.model`. */
export type ConfigPath = ReadonlyArray<string | number>;

export function formatConfigPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text.length === 0 ? segment : `.${segment}`;
  }
  return text.length === 0 ? '(root)' : text;
}

/** Collects problems (`path: message`) so that one start-up reports all of them at once. */
export class ConfigProblems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(path: ConfigPath, message: string): void {
    this.errors.push(`${formatConfigPath(path)}: ${message}`);
  }

  warn(path: ConfigPath, message: string): void {
    this.warnings.push(`${formatConfigPath(path)}: ${message}`);
  }
}
