/**
 * `portico batch ...`: run and follow OpenAI-format batches from the command line, against
 * Portico or any OpenAI-compatible endpoint. `bin/portico.js` loads this module only for the
 * `batch` subcommand, so the gateway's start-up never pays for it.
 */
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { describeError } from './api-errors.ts';
import { cancel, download, list, retryFailed, status, submit, watch, type CommandIo } from './commands.ts';
import { CliUsageError, EXIT } from './exit-codes.ts';

export const BATCH_HELP = `Usage: portico batch COMMAND [options]

Run OpenAI-format batches against Portico or any OpenAI-compatible endpoint.

Commands:
  submit FILE.jsonl [--model M] [--endpoint URL] [--completion-window 24h] [--wait] [--out DIR]
                      Upload the file (purpose batch) and create a batch; with --wait, show its
                      progress until it ends and download its output and error files into DIR
                      (default: the current directory). The file is checked line by line first.
                      --model M: a batch runs on one model (OpenAI: one per input file; Portico:
                      one model group), so M replaces body.model in every line (a note says how
                      many named another). Without it the lines must all name the same model.
                      --endpoint defaults to the lines' url. --metadata KEY=VALUE may be repeated.
  watch ID [--out DIR]
                      Show a batch's progress until it ends (or resume watching it), then
                      download its files.
  status ID           Show a batch: status, counts, times, files, errors.
  list [--limit N]    The latest batches (default 20).
  cancel ID           Cancel a batch.
  download ID [--out DIR]
                      Download a batch's output and error files (ID_output.jsonl, ID_errors.jsonl).
  retry-failed ID [--model M] [--input FILE.jsonl] [--wait] [--out DIR]
                      Create a batch of the input lines of ID whose custom_ids are in its error
                      file (same endpoint and completion window, metadata retry_of=ID). The lines
                      come from the batch's input file, or from --input (the file you submitted)
                      where the endpoint does not give input files back. --model M: run them on M.

Connection (every command):
  --base-url URL      Default: OPENAI_BASE_URL, else http://localhost:4000/v1 (Portico).
  --api-key KEY       Default: OPENAI_API_KEY. For Portico: its master key or a virtual key.
  --interval S        Seconds between two looks at a watched batch (default 2).
  -h, --help          Show this help.

Progress is a bar redrawn in place on a terminal (done and failed lines of the total, lines/s,
ETA), and a plain line per change otherwise (a pipe, a CI log; at most every 5 s unless the
status changes). A watch keeps trying through an unreachable endpoint or 5xx answers for up to
5 minutes. Ctrl-C while watching leaves the batch running, prints how to watch it again and
exits 130; a second Ctrl-C exits at once.

Exit codes (submit --wait, watch, retry-failed --wait, and status and download of an ended batch):
  0    done; the batch completed with no failed line
  2    usage error: flags, arguments, a missing or malformed input file
  3    the endpoint could not be reached or answered an error (its message is printed),
       e.g. an unknown batch id
  4    the batch completed with failed lines (see its error file)
  5    the batch failed
  6    the batch expired
  7    the batch was cancelled
  130  interrupted (Ctrl-C); while watching, the batch keeps running
`;

const DEFAULT_BASE_URL = 'http://localhost:4000/v1';
/** How long a watch keeps trying through an unreachable or failing endpoint. */
const GIVE_UP_AFTER_MS = 5 * 60_000;

interface Parsed {
  command: string;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

export const OPTIONS = {
  model: { type: 'string' },
  endpoint: { type: 'string' },
  'completion-window': { type: 'string' },
  wait: { type: 'boolean' },
  out: { type: 'string' },
  limit: { type: 'string' },
  metadata: { type: 'string', multiple: true },
  input: { type: 'string' },
  'base-url': { type: 'string' },
  'api-key': { type: 'string' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const CONNECTION_OPTIONS = ['base-url', 'api-key', 'interval', 'help'];

/** The options each command takes, besides the connection's; any other is a usage error, not ignored. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  submit: ['model', 'endpoint', 'completion-window', 'wait', 'out', 'metadata'],
  watch: ['out'],
  status: [],
  list: ['limit'],
  cancel: [],
  download: ['out'],
  'retry-failed': ['model', 'input', 'wait', 'out'],
};

function parse(argv: readonly string[]): Parsed | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CliUsageError(`${(error as Error).message}\nRun "portico batch --help" for usage.`);
  }
  const [command, ...positionals] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === 'help') return 'help';
  const allowed = COMMAND_OPTIONS[command];
  if (allowed === undefined) throw new CliUsageError(`Unknown command "${command}". Run "portico batch --help" for usage.`);
  const misplaced = Object.keys(parsed.values).find((name) => !allowed.includes(name) && !CONNECTION_OPTIONS.includes(name));
  if (misplaced !== undefined) throw new CliUsageError(`"portico batch ${command}" takes no --${misplaced}. Run "portico batch --help" for usage.`);
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

/** OpenAI's list takes 1 to 100. */
function listLimit(text: string | undefined): number {
  if (text === undefined) return 20;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100) throw new CliUsageError(`--limit must be an integer from 1 to 100, not "${text}"`);
  return Number(text);
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
      return list(io, listLimit(v.limit as string | undefined));
    case 'watch':
      return watch(io, oneId(parsed), outDir);
    case 'cancel':
      return cancel(io, oneId(parsed));
    case 'download':
      return download(io, oneId(parsed), outDir);
    case 'retry-failed':
      return retryFailed(io, oneId(parsed), { wait: v.wait === true, outDir, model: v.model as string | undefined, inputPath: v.input as string | undefined });
    default:
      throw new CliUsageError(`Unknown command "${parsed.command}". Run "portico batch --help" for usage.`);
  }
}

/** Runs `portico batch ARGS`; sets the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // The first Ctrl-C stops what is in flight (a watch stops, leaving the batch running; a
  // download or an upload stops, leaving nothing half-written); a second one exits at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    interrupt.abort();
  };
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
      giveUpAfterMs: GIVE_UP_AFTER_MS,
      interrupt: interrupt.signal,
    });
  } catch (error) {
    const { text, code } = interrupt.signal.aborted ? { text: 'interrupted', code: EXIT.interrupted } : describeError(error);
    process.stderr.write(`portico batch: ${text}\n`);
    process.exitCode = code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
