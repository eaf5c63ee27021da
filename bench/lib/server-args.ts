/**
 * Shared plumbing for the small servers the benches start as child processes.
 *
 * API:
 *   readFlag(name: string): string | undefined     // value of `--name VALUE` or `--name=VALUE` in process.argv
 *   exitWhenParentGoes(): void                     // exit when stdin closes (the bench died or stopped us)
 */

export function readFlag(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** The bench spawns us with a stdin pipe: when it closes, the bench is gone, so are we. */
export function exitWhenParentGoes(): void {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
}
