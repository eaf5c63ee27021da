/**
 * `node bench/token-estimate.bench.ts`: what counting a batch file's input tokens with a real
 * tokenizer would cost at upload, against the 4-characters-a-token estimate Portico counts while
 * its validator parses each line (issue 12, `src/managed/jsonl/line-token-estimate.ts`).
 *
 * Builds a 10,000-line chat batch file (a system and a user message of varied English words from
 * the README, about 1.9 KB a line), then, alternating, `BENCH_ROUNDS` times: the validator alone
 * (as the upload runs it, 64 KiB chunks), the upload through Portico (in process, SQLite, the
 * `openai` SDK), and `gpt-tokenizer`'s o200k `countTokens` over the same messages' text, which is
 * the work a tokenizer would add to the validator. `gpt-tokenizer` is not a dependency: install it
 * for the run with `npm install --no-save gpt-tokenizer` (without it the third column is skipped).
 * Prints the medians, the tokenizer's share against the validator and the upload, both estimates
 * of the file's tokens, and the load average before and after.
 *
 * Environment: BENCH_LINES (10000), BENCH_ROUNDS (5), BENCH_TOKENIZER (`gpt-tokenizer`: the
 * module to import, e.g. a path to its `esm/main.js` installed elsewhere).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { toFile } from 'openai';
import { BatchInputValidator } from '../src/managed/jsonl/batch-input-validator.ts';
import { startPortico } from '../test/helpers/portico.ts';

const LINES = Number(process.env.BENCH_LINES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const words = readFileSync(new URL('../README.md', import.meta.url), 'utf8').split(/\s+/).filter(Boolean);
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const textOf = (characters: number) => {
  let text = '';
  while (text.length < characters) text += `${words[Math.floor(random() * words.length)]} `;
  return text;
};
const texts: string[] = [];
const lines: string[] = [];
for (let i = 0; i < LINES; i++) {
  const messages = [{ role: 'system', content: textOf(200) }, { role: 'user', content: textOf(800 + Math.floor(random() * 1400)) }];
  texts.push(...messages.map((message) => message.content));
  lines.push(JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages, max_tokens: 200 } }));
}
const file = Buffer.from(lines.join('\n'));

type Counter = (text: string) => number;
const tokenizer: Counter | undefined = await import(process.env.BENCH_TOKENIZER ?? 'gpt-tokenizer').then(
  (module: { countTokens: Counter }) => module.countTokens,
  () => undefined,
);

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
console.log(`${LINES} lines, ${(file.length / 1e6).toFixed(1)} MB; load average before: ${load()}`);

let charactersEstimate = 0;
const validate = (): number => {
  const started = performance.now();
  const validator = new BatchInputValidator({ maxLines: LINES + 1 });
  for (let offset = 0; offset < file.length; offset += 65_536) validator.push(file.subarray(offset, offset + 65_536));
  const summary = validator.finish();
  if (summary.problem) throw new Error(summary.problem.message);
  charactersEstimate = summary.tokens.inputTokens;
  return performance.now() - started;
};
let tokenizerCount = 0;
const tokenize = (): number => {
  const started = performance.now();
  let total = 0;
  for (const text of texts) total += tokenizer!(text);
  tokenizerCount = total;
  return performance.now() - started;
};

const portico = await startPortico(`model_list:\n  - {model_name: gpt-4o-mini, litellm_params: {model: mock/gpt-4o-mini}}\n`, { logLevel: 'warn' });
const client = portico.client();
const upload = async (): Promise<number> => {
  const started = performance.now();
  await client.files.create({ file: await toFile(file, 'in.jsonl'), purpose: 'batch' });
  return performance.now() - started;
};

const times = { validator: [] as number[], upload: [] as number[], tokenizer: [] as number[] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    times.validator.push(validate());
    times.upload.push(await upload());
    if (tokenizer) times.tokenizer.push(tokenize());
  }
} finally {
  await portico.close();
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const show = (values: number[]) => `${values.map((v) => v.toFixed(0)).join(', ')} ms (median ${median(values).toFixed(0)})`;
console.log(`validator (chars/4):        ${show(times.validator)}`);
console.log(`upload through Portico:     ${show(times.upload)}`);
if (tokenizer) {
  const added = median(times.tokenizer);
  console.log(`gpt-tokenizer o200k count:  ${show(times.tokenizer)}`);
  console.log(`with the tokenizer: validator ${((median(times.validator) + added) / median(times.validator)).toFixed(2)}x, upload ${((median(times.upload) + added) / median(times.upload)).toFixed(2)}x (projected: its time added)`);
  console.log(`input tokens: chars/4 ${charactersEstimate} (messages as JSON), o200k ${tokenizerCount} (message text only)`);
} else {
  console.log('gpt-tokenizer not installed: `npm install --no-save gpt-tokenizer` for its column');
}
console.log(`load average after: ${load()}`);
