/**
 * The upstreams of the files bench, in their own process so that their memory (they keep every
 * uploaded file in memory) is not counted as the gateway's:
 *   node bench/lib/files-upstreams-server.ts --openai-port N --azure-port M --control-port C
 *       [--azure-deployment gpt-4o-batch] [--max-batch-file-bytes B] [--batch-step-ms 100]
 *
 * Starts test/simulators' OpenAI simulator and Azure OpenAI simulator (API keys
 * OPENAI_SIMULATOR_API_KEY / AZURE_SIMULATOR_API_KEY), both advancing their batches by themselves
 * every --batch-step-ms, then a control server on --control-port:
 *   GET /health  200 once both simulators listen
 *   GET /stats   {"rssBytes", "files": {"openai": [{id, bytes, purpose}], "azure": [...]}}
 * Listens on 127.0.0.1 only. Exits when stdin closes.
 */
import { createServer } from 'node:http';
import { startAzureSimulator } from '../../test/simulators/azure-simulator.ts';
import { startOpenAISimulator } from '../../test/simulators/openai-simulator.ts';
import { exitWhenParentGoes, readFlag } from './server-args.ts';

function portFlag(name: string): number {
  const value = Number(readFlag(name));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} PORT is required`);
  return value;
}

const maxBatchFileBytes = Number(readFlag('max-batch-file-bytes') ?? 512 * 1024 * 1024);
const batchStepMs = Number(readFlag('batch-step-ms') ?? 100);
const azureDeployment = readFlag('azure-deployment') ?? 'gpt-4o-batch';

exitWhenParentGoes();

const openai = await startOpenAISimulator({ port: portFlag('openai-port'), maxBatchFileBytes, batchStepMs });
const azure = await startAzureSimulator({
  port: portFlag('azure-port'),
  deployments: [azureDeployment],
  maxBatchFileBytes,
  batchStepMs,
});
// The request logs keep only sizes and JSON bodies, but a long run needs neither.
const trimLogs = setInterval(() => {
  openai.requests.length = 0;
  azure.requests.length = 0;
}, 1000);
trimLogs.unref();

const listFiles = (files: Map<string, { id: string; bytes: number; purpose: string }>) =>
  [...files.values()].map(({ id, bytes, purpose }) => ({ id, bytes, purpose }));

const control = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.method === 'GET' && req.url === '/stats') {
    const body = JSON.stringify({
      rssBytes: process.memoryUsage.rss(),
      files: { openai: listFiles(openai.files), azure: listFiles(azure.files) },
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  res.writeHead(404).end();
});
control.listen(portFlag('control-port'), '127.0.0.1');
