/**
 * The soak's pass/fail rules (pure, unit-tested in test/bench/).
 *
 * API:
 *   classifyAnswer(kind, status, body): AnswerClass
 *       what an answer says about Portico: `ok`; `upstream` (an upstream failure relayed or
 *       retried out: 429, or a 5xx on a route that calls the upstream, unless it is Portico's own
 *       generic 500); `portico_5xx` (a 5xx Portico caused: its generic 500 anywhere, any 5xx on a
 *       route that does not call the upstream); `unexpected_4xx` (the soak sends valid requests)
 *   batchLineFindings(expected, outputIds, executions?): { lost, duplicated, runTwice }
 *       every expected custom id must be in the batch's output or error file exactly once, and,
 *       where upstream executions are counted, the model ran it at most once
 *   soakVerdict(input): { pass, checks }
 *       flat RSS, V8 heap and descriptors (DEFAULT_TOLERANCE), every batch finished, no line lost or
 *       twice, nothing kept of uploads cut off by the client, no 5xx Portico caused
 */
import { median } from './stats.ts';

export type RouteKind = 'upstream' | 'local';
export type AnswerClass = 'ok' | 'upstream' | 'portico_5xx' | 'unexpected_4xx';

/** Portico's answer for an unexpected error (server/error-to-response.ts). */
const PORTICO_GENERIC_500 = 'The server had an error while processing your request.';

export function classifyAnswer(kind: RouteKind, status: number, body: unknown): AnswerClass {
  if (status >= 200 && status < 300) return 'ok';
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (status >= 500) {
    if (typeof message === 'string' && message.startsWith(PORTICO_GENERIC_500)) return 'portico_5xx';
    return kind === 'upstream' ? 'upstream' : 'portico_5xx';
  }
  if (status === 429 && kind === 'upstream') return 'upstream';
  return 'unexpected_4xx';
}

export interface BatchLineFindings {
  /** In neither the output nor the error file. */
  lost: string[];
  /** More than once across the output and error files. */
  duplicated: string[];
  /** Answered by the model more than once. */
  runTwice: string[];
}

export function batchLineFindings(expected: readonly string[], outputIds: readonly string[], executions?: Readonly<Record<string, number>>): BatchLineFindings {
  const seen = new Map<string, number>();
  for (const id of outputIds) seen.set(id, (seen.get(id) ?? 0) + 1);
  return {
    lost: expected.filter((id) => !seen.has(id)),
    duplicated: [...seen].filter(([, count]) => count > 1).map(([id]) => id),
    runTwice: executions ? expected.filter((id) => (executions[id] ?? 0) > 1) : [],
  };
}

export interface SoakSample {
  /** Seconds since the load started. */
  atS: number;
  rssBytes: number;
  /** V8 heap used (`/metrics`); NaN when it could not be read. */
  heapBytes?: number;
  fds: number;
}

export interface SoakTolerance {
  /** RSS floor may grow by this much between the first and the last third after warm-up: the larger of the two. */
  rssGrowthBytes: number;
  rssGrowthFraction: number;
  /** The V8 heap's floor may grow by this much, or by `rssGrowthFraction`. */
  heapGrowthBytes: number;
  /** Seconds of samples after warm-up needed to judge RSS and heap at all. */
  rssMinJudgedS: number;
  /** Descriptors may grow by this many (sockets come and go with the load). */
  fdGrowth: number;
}

/**
 * Flat RSS: judged on floors, because V8 collects lazily and RSS saw-tooths between major
 * collections (the soak saw 320 -> 172 MB in one step): the lowest sample of the last third
 * after warm-up may exceed the lowest of the first third by max(64 MB, 25%). A leak raises the
 * floor; a heap that has not been collected yet does not. The V8 heap's floor is judged the same
 * way (max(32 MB, 25%)): after a major collection it shows what JavaScript still holds, where
 * RSS may stay up because V8 or malloc keep pages they freed. Under 120 s of samples after
 * warm-up (`--minutes` under 3) there is no floor to speak of: both are reported, not judged.
 * Flat descriptors: the medians of the same thirds, at most 16 more (each concurrent request
 * may hold a client and an upstream socket), and, idle after the load, at most 16 more than idle
 * before it.
 */
export const DEFAULT_TOLERANCE: SoakTolerance = { rssGrowthBytes: 64 * 1024 * 1024, rssGrowthFraction: 0.25, heapGrowthBytes: 32 * 1024 * 1024, rssMinJudgedS: 120, fdGrowth: 16 };

export interface SoakVerdictInput {
  samples: readonly SoakSample[];
  warmupS: number;
  idleFdsBefore: number;
  idleFdsAfter: number;
  batches: BatchLineFindings;
  /** Batches that did not reach a terminal state before the end. */
  unfinishedBatches: number;
  porticoErrors: number;
  /** Uploads the client cut off half way: files registered from them, temp files left of them. */
  cutUploads: { registered: number; tempFiles: number };
  tolerance?: SoakTolerance;
}

export interface SoakCheck {
  name: string;
  pass: boolean;
  /** False for a check the run was too short to decide (it does not fail the verdict). */
  judged?: boolean;
  detail: string;
}

export function soakVerdict(input: SoakVerdictInput): { pass: boolean; checks: SoakCheck[] } {
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  const steady = input.samples.filter((sample) => sample.atS >= input.warmupS);
  const third = Math.max(1, Math.floor(steady.length / 3));
  const first = steady.slice(0, third);
  const last = steady.slice(-third);
  const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  const checks: SoakCheck[] = [];

  if (steady.length < 2) {
    checks.push({ name: 'enough samples after warm-up', pass: false, detail: `${steady.length} sample(s) after ${input.warmupS} s of warm-up; run longer` });
  } else {
    const span = steady[steady.length - 1].atS - steady[0].atS;
    const floorFirst = Math.min(...first.map((s) => s.rssBytes));
    const floorLast = Math.min(...last.map((s) => s.rssBytes));
    const allowed = Math.max(tolerance.rssGrowthBytes, tolerance.rssGrowthFraction * floorFirst);
    const growth = `floor ${mb(floorFirst)} -> ${mb(floorLast)} (${floorLast >= floorFirst ? '+' : ''}${mb(floorLast - floorFirst)}, allowed +${mb(allowed)})`;
    checks.push(
      span < tolerance.rssMinJudgedS
        ? { name: 'RSS flat after warm-up', pass: true, judged: false, detail: `not judged: ${span} s of samples after warm-up, ${tolerance.rssMinJudgedS} s needed (--minutes 3 or more); ${growth}` }
        : { name: 'RSS flat after warm-up', pass: floorLast - floorFirst <= allowed, detail: growth },
    );
    const heapFirst = Math.min(...first.map((s) => s.heapBytes ?? Number.NaN));
    const heapLast = Math.min(...last.map((s) => s.heapBytes ?? Number.NaN));
    if (Number.isFinite(heapFirst) && Number.isFinite(heapLast)) {
      const heapAllowed = Math.max(tolerance.heapGrowthBytes, tolerance.rssGrowthFraction * heapFirst);
      const heapGrowth = `floor ${mb(heapFirst)} -> ${mb(heapLast)} (${heapLast >= heapFirst ? '+' : ''}${mb(heapLast - heapFirst)}, allowed +${mb(heapAllowed)})`;
      checks.push(
        span < tolerance.rssMinJudgedS
          ? { name: 'V8 heap flat after warm-up', pass: true, judged: false, detail: `not judged (as RSS); ${heapGrowth}` }
          : { name: 'V8 heap flat after warm-up', pass: heapLast - heapFirst <= heapAllowed, detail: heapGrowth },
      );
    }
    const fdFirst = median(first.map((s) => s.fds));
    const fdLast = median(last.map((s) => s.fds));
    checks.push({
      name: 'descriptors flat under load',
      pass: fdLast - fdFirst <= tolerance.fdGrowth,
      detail: `median ${fdFirst} -> ${fdLast} (allowed +${tolerance.fdGrowth})`,
    });
  }
  checks.push({
    name: 'descriptors back when idle',
    pass: input.idleFdsAfter - input.idleFdsBefore <= tolerance.fdGrowth,
    detail: `${input.idleFdsBefore} before the load, ${input.idleFdsAfter} after it (allowed +${tolerance.fdGrowth})`,
  });
  const { lost, duplicated, runTwice } = input.batches;
  const sample = (ids: string[]) => (ids.length === 0 ? 'none' : `${ids.length} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''})`);
  checks.push({ name: 'every batch finished', pass: input.unfinishedBatches === 0, detail: `${input.unfinishedBatches} unfinished` });
  checks.push({ name: 'no batch line lost', pass: lost.length === 0, detail: `lost: ${sample(lost)}` });
  checks.push({ name: 'no batch line twice', pass: duplicated.length === 0 && runTwice.length === 0, detail: `twice in the files: ${sample(duplicated)}; run twice upstream: ${sample(runTwice)}` });
  const { registered, tempFiles } = input.cutUploads;
  checks.push({ name: 'nothing kept of cut-off uploads', pass: registered === 0 && tempFiles === 0, detail: `${registered} files registered, ${tempFiles} temp files left` });
  checks.push({ name: 'no 5xx Portico caused', pass: input.porticoErrors === 0, detail: `${input.porticoErrors}` });
  return { pass: checks.every((check) => check.pass), checks };
}
