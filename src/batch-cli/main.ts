/**
 * `portico batch ...`: run and follow OpenAI-format batches from the command line, against
 * Portico or any OpenAI-compatible endpoint. `bin/portico.js` loads this module only for the
 * `batch` subcommand, so the gateway's start-up never pays for it.
 */
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { cancel, download, list, retryFailed, status, submit, watch, type CommandIo } from './commands.ts';
import { CliUsageError, EXIT } from './exit-codes.ts';

export const BATCH_HELP = `Usage: portico batch COMMAND [options]

Run OpenAI-format batches against Portico or any OpenAI-compatible endpoint.

Commands:
  submit FILE.jsonl [--model M] [--endpoint URL] [--completion-window 24h] [--wait] [--out DIR]
                      Upload the file, create a batch; with --wait, show its progress until it
                      ends and download its output and error files into DIR (default: .).
                      --model M sets body.model of every line (OpenAI takes one model per batch);
                      without it every line must name its model. --endpoint defaults to the
                      lines' url. --metadata KEY=VALUE may be repeated.
  status ID           Show a batch: status, counts, times, files, errors.
  list [--limit N]    The latest batches (default 20).
  watch ID [--out DIR]
                      Show a batch's progress until it ends, then download its files.
  cancel ID           Cancel a batch.
  download ID [--out DIR]
                      Download a batch's output and error files.
  retry-failed ID [--wait] [--out DIR]
                      Create a batch of the lines of ID that are in its error file.

Connection (every command):
  --base-url URL      Default: OPENAI_BASE_URL, else http://localhost:4000/v1 (Portico).
  --api-key KEY       Default: OPENAI_API_KEY.
  --interval S        Seconds between two looks at a watched batch (default 2).

Progress is a bar redrawn in place on a terminal, and a plain line per change (at most every
5 s) otherwise. Ctrl-C while watching leaves the batch running and prints how to watch again.

Exit codes:
  0    done; a watched batch completed with no failed line
  2    usage error (flags, arguments, a malformed input file)
  3    the endpoint could not be reached or answered an error
  4    the batch completed with failed lines (see its error file)
  5    the batch failed      6  the batch expired      7  the batch was cancelled
  130  interrupted while watching (the batch keeps running)
`;

const DEFAULT_BASE_URL = 'http://localhost:4000/v1';

interface Parsed {
  command: string;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

function parse(argv: readonly string[]): Parsed | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        model: { type: 'string' },
        endpoint: { type: 'string' },
        'completion-window': { type: 'string' },
        wait: { type: 'boolean' },
        out: { type: 'string' },
        limit: { type: 'string' },
        metadata: { type: 'string', multiple: true },
        'base-url': { type: 'string' },
        'api-key': { type: 'string' },
        interval: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new CliUsageError(`${(error as Error).message}\nRun "portico batch --help" for usage.`);
  }
  const [command, ...positionals] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === 'help') return 'help';
  return { command, positionals, values: parsed.values };
}

function oneId(parsed: Parsed): string {
  if (parsed.positionals.length !== 1) throw new CliUsageError(`"portico batch ${parsed.command}" takes one batch id. Run "portico batch --help" for usage.`);
  return parsed.positionals[0];
}

function positiveNumber(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new CliUsageError(`--${name} must be a positive number, not "${text}"`);
  return value;
}

function metadataOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--metadata takes KEY=VALUE, not "${pair}"`);
    metadata[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return metadata;
}

async function run(parsed: Parsed, io: CommandIo): Promise<number> {
  const v = parsed.values;
  const outDir = (v.out as string | undefined) ?? '.';
  switch (parsed.command) {
    case 'submit': {
      if (parsed.positionals.length !== 1) throw new CliUsageError('"portico batch submit" takes one input file. Run "portico batch --help" for usage.');
      return submit(io, {
        file: parsed.positionals[0],
        model: v.model as string | undefined,
        endpoint: v.endpoint as string | undefined,
        completionWindow: (v['completion-window'] as string | undefined) ?? '24h',
        wait: v.wait === true,
        outDir,
        metadata: metadataOf(v.metadata as string[] | undefined),
      });
    }
    case 'status':
      return status(io, oneId(parsed));
    case 'list':
      return list(io, Math.floor(positiveNumber(v.limit as string | undefined, 'limit', 20)));
    case 'watch':
      return watch(io, oneId(parsed), outDir);
    case 'cancel':
      return cancel(io, oneId(parsed));
    case 'download':
      return download(io, oneId(parsed), outDir);
    case 'retry-failed':
      return retryFailed(io, oneId(parsed), { wait: v.wait === true, outDir });
    default:
      throw new CliUsageError(`Unknown command "${parsed.command}". Run "portico batch --help" for usage.`);
  }
}

/** The message of an error as a user should read it: the API's own words, no stack. */
function describe(error: unknown): { text: string; code: number } {
  if (error instanceof CliUsageError) return { text: error.message, code: EXIT.usage };
  if (error instanceof OpenAI.APIConnectionError) return { text: `cannot reach the endpoint: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`, code: EXIT.apiError };
  if (error instanceof OpenAI.APIError) {
    const message = (error.error as { message?: unknown } | undefined)?.message;
    return { text: `${error.status ?? 'error'}: ${typeof message === 'string' ? message : error.message}`, code: EXIT.apiError };
  }
  return { text: error instanceof Error ? error.message : String(error), code: EXIT.apiError };
}

/** Runs `portico batch ARGS`; sets the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.on('SIGINT', onSigint);
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      process.stdout.write(BATCH_HELP);
      return;
    }
    const apiKey = (parsed.values['api-key'] as string | undefined) ?? env.OPENAI_API_KEY;
    if (!apiKey) throw new CliUsageError('No API key: pass --api-key KEY or set OPENAI_API_KEY (for Portico: its master key or a virtual key).');
    const client = new OpenAI({ apiKey, baseURL: (parsed.values['base-url'] as string | undefined) ?? env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL, maxRetries: 2 });
    process.exitCode = await run(parsed, {
      client,
      out: process.stdout,
      err: process.stderr,
      isTerminal: process.stdout.isTTY === true,
      pollSeconds: positiveNumber(parsed.values.interval as string | undefined, 'interval', 2),
      interrupt: interrupt.signal,
    });
  } catch (error) {
    const { text, code } = describe(error);
    process.stderr.write(`portico batch: ${text}\n`);
    process.exitCode = code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
