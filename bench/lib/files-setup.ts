/**
 * The processes of the files bench: the two upstream simulators (one child process) and Portico
 * (another), configured like the managed end-to-end scenarios (test/e2e/managed/managed-fixtures.ts):
 * `gpt-4o-mini` on OpenAI only, `gpt-4o-everywhere` on OpenAI AND Azure OpenAI.
 *
 * API:
 *   startFilesUpstreams(): Promise<FilesUpstreams>
 *       bench/lib/files-upstreams-server.ts on three free ports; resolves once both simulators listen
 *   filesConfig(upstreams, storageDir, limits?): string      // Portico's YAML (pure)
 *   startFilesPortico(upstreams, options?): Promise<FilesPortico>
 *       bin/portico.js --config <tmp>/config.yaml --port N, DATABASE_URL=BENCH_DATABASE_URL or
 *       file:<tmp>/bench.db, LOG_LEVEL=warn, node flags from BENCH_PORTICO_NODE_ARGS; blob store
 *       in <tmp>/files (or `limits.blobStore`, e.g. database); with
 *       `memoryProbe`, bench/lib/memory-probe.ts preloaded, writing to <tmp>/memory-probe.jsonl
 *   readUpstreamStats(upstreams): Promise<UpstreamStats>     // what the simulators hold
 *   FILES_MASTER_KEY, EVERYWHERE_GROUP, OPENAI_ONLY_GROUP, AZURE_DEPLOYMENT
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { AZURE_SIMULATOR_API_KEY } from '../../test/simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY } from '../../test/simulators/openai-simulator.ts';
import { getFreePort, makeTempDir, nodeBinary, porticoLaunch, porticoNodeArgs, repoRoot, startProcess, warmCompileCache, type ManagedProcess } from './processes.ts';

export const FILES_MASTER_KEY = 'sk-bench-files-master';
export const EVERYWHERE_GROUP = 'gpt-4o-everywhere';
export const OPENAI_ONLY_GROUP = 'gpt-4o-mini';
export const AZURE_DEPLOYMENT = 'gpt-4o-batch';

export interface FilesUpstreams {
  proc: ManagedProcess;
  /** `http://127.0.0.1:P/v1` */
  openaiUrl: string;
  /** `http://127.0.0.1:P` (the Azure resource endpoint) */
  azureUrl: string;
  controlUrl: string;
}

export interface UpstreamStats {
  rssBytes: number;
  files: Record<'openai' | 'azure', Array<{ id: string; bytes: number; purpose: string }>>;
}

export async function startFilesUpstreams(): Promise<FilesUpstreams> {
  const [openaiPort, azurePort, controlPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
  const controlUrl = `http://127.0.0.1:${controlPort}`;
  const proc = await startProcess({
    name: 'simulators',
    command: nodeBinary(),
    args: [
      join(repoRoot, 'bench', 'lib', 'files-upstreams-server.ts'),
      '--openai-port', String(openaiPort),
      '--azure-port', String(azurePort),
      '--control-port', String(controlPort),
      '--azure-deployment', AZURE_DEPLOYMENT,
    ],
    ready: { url: `${controlUrl}/health`, timeoutMs: 20_000 },
  });
  return { proc, openaiUrl: `http://127.0.0.1:${openaiPort}/v1`, azureUrl: `http://127.0.0.1:${azurePort}`, controlUrl };
}

export async function readUpstreamStats(upstreams: FilesUpstreams): Promise<UpstreamStats> {
  const response = await request(`${upstreams.controlUrl}/stats`);
  return (await response.body.json()) as UpstreamStats;
}

export interface FilesLimits {
  maxBatchFileBytes?: number;
  maxBatchFileLines?: number;
  /** `portico_settings.files.blob_store` (default: the config's default, a directory). */
  blobStore?: 'directory' | 'database';
}

export function filesConfig(upstreams: Pick<FilesUpstreams, 'openaiUrl' | 'azureUrl'>, storageDir: string, limits: FilesLimits = {}): string {
  const lines = [
    'model_list:',
    `  - model_name: ${OPENAI_ONLY_GROUP}`,
    '    litellm_params:',
    '      model: openai/gpt-4o-mini',
    `      api_base: ${upstreams.openaiUrl}`,
    '      api_key: os.environ/BENCH_OPENAI_KEY',
    '    model_info: { id: bench-openai-mini }',
    `  - model_name: ${EVERYWHERE_GROUP}`,
    '    litellm_params:',
    '      model: openai/gpt-4o',
    `      api_base: ${upstreams.openaiUrl}`,
    '      api_key: os.environ/BENCH_OPENAI_KEY',
    '    model_info: { id: bench-everywhere-openai }',
    `  - model_name: ${EVERYWHERE_GROUP}`,
    '    litellm_params:',
    `      model: azure/${AZURE_DEPLOYMENT}`,
    `      api_base: ${upstreams.azureUrl}`,
    '      api_key: os.environ/BENCH_AZURE_KEY',
    '      api_version: "2024-10-21"',
    '    model_info: { id: bench-everywhere-azure }',
    'general_settings:',
    `  master_key: ${FILES_MASTER_KEY}`,
    'router_settings:',
    '  num_retries: 0',
    '  timeout: 600',
    'portico_settings:',
    '  files:',
    `    storage_dir: ${JSON.stringify(storageDir)}`,
  ];
  if (limits.blobStore !== undefined) lines.push(`    blob_store: ${limits.blobStore}`);
  if (limits.maxBatchFileBytes !== undefined) lines.push(`    max_batch_file_bytes: ${limits.maxBatchFileBytes}`);
  if (limits.maxBatchFileLines !== undefined) lines.push(`    max_batch_file_lines: ${limits.maxBatchFileLines}`);
  lines.push('  batch:', '    refresh_after_seconds: 0', '    poll_interval_ms: 250', '');
  return lines.join('\n');
}

export interface FilesPortico {
  proc: ManagedProcess;
  pid: number;
  /** `http://127.0.0.1:N` */
  origin: string;
  dir: string;
  storageDir: string;
  nodeArgs: string[];
  /** Where the memory probe writes (when it was asked for). */
  probeFile: string | undefined;
}

export interface FilesPorticoOptions {
  limits?: FilesLimits;
  /** Preload bench/lib/memory-probe.ts (V8 heap, buffers, anonymous vs file-backed RSS every 50 ms). */
  memoryProbe?: boolean;
}

export async function startFilesPortico(upstreams: FilesUpstreams, options: FilesPorticoOptions = {}): Promise<FilesPortico> {
  const dir = makeTempDir('portico-files-bench-');
  const storageDir = join(dir, 'files');
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, filesConfig(upstreams, storageDir, options.limits));
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const probeFile = options.memoryProbe ? join(dir, 'memory-probe.jsonl') : undefined;
  const nodeArgs = [
    ...porticoNodeArgs(),
    ...(process.env.BENCH_PORTICO_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    ...(probeFile ? ['--import', join(repoRoot, 'bench', 'lib', 'memory-probe.ts')] : []),
  ];
  await warmCompileCache(porticoNodeArgs());
  const proc = await startProcess({
    name: 'portico',
    command: nodeBinary(),
    args: [...nodeArgs, join(repoRoot, 'bin', 'portico.js'), '--config', configPath, '--port', String(port)],
    env: {
      ...porticoLaunch().env,
      DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `file:${join(dir, 'bench.db')}`,
      LOG_LEVEL: 'warn',
      BENCH_OPENAI_KEY: OPENAI_SIMULATOR_API_KEY,
      BENCH_AZURE_KEY: AZURE_SIMULATOR_API_KEY,
      MEMORY_PROBE_FILE: probeFile,
    },
    stdinPipe: false,
    ready: { url: `${origin}/health/liveliness`, timeoutMs: 30_000 },
  });
  return { proc, pid: proc.pid, origin, dir, storageDir, nodeArgs, probeFile };
}
