/**
 * The official Python `openai` SDK against Portico, unchanged (test/e2e/python/sdk_tour.py): chat,
 * embeddings, responses, files and batches as a Python user calls them. The Python SDK differs
 * from the Node one on the wire (httpx's multipart, `content-type: application/json` on bodiless
 * POSTs and DELETEs, its own stream parser), which the Node suites cannot see.
 *
 * Needs `python3` with the `openai` package; where it is missing the test is skipped and says so
 * (the machine this project's CI runs on has it).
 */
import assert from 'node:assert/strict';
import { spawnSync, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { E2E_MASTER_KEY } from './fixtures.ts';

const SCRIPT = fileURLToPath(new URL('./python/sdk_tour.py', import.meta.url));
const probe = spawnSync('python3', ['-c', 'import openai; print(openai.__version__)'], { encoding: 'utf8' });
const pythonSdk = probe.status === 0 ? probe.stdout.trim() : undefined;

describe('the official Python openai SDK through Portico', { skip: pythonSdk === undefined && 'python3 with the openai package is not installed here' }, () => {
  let upstream: OpenAISimulator;
  let portico: PorticoUnderTest;

  before(async () => {
    upstream = await startOpenAISimulator();
    portico = await startPortico(
      `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: os.environ/PY_OPENAI_KEY }
  - model_name: text-embedding-3-small
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${upstream.url}, api_key: os.environ/PY_OPENAI_KEY }
general_settings:
  master_key: ${E2E_MASTER_KEY}
`,
      { env: { ...process.env, PY_OPENAI_KEY: OPENAI_SIMULATOR_API_KEY } },
    );
  });
  after(async () => {
    await portico?.close();
    await upstream?.close();
  });

  it(`chat, embeddings, responses, files and batches, as the SDK (${pythonSdk ?? 'absent'}) calls them`, async () => {
    const key = (await portico.generateKey({ team_id: 'python-team' })).key;
    const { stdout } = await promisify(execFile)('python3', [SCRIPT], {
      env: { ...process.env, PORTICO_BASE_URL: portico.baseURL, PORTICO_API_KEY: key, PORTICO_MODEL: 'gpt-4o', PORTICO_EMBEDDING_MODEL: 'text-embedding-3-small' },
      timeout: 60_000,
    });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    const { sdk_version: _version, ...rest } = seen;
    assert.deepEqual(rest, {
      chat: 'Hello from Python',
      chat_stream: 'Stream from Python',
      embeddings: [1536, 1536],
      response_text: 'Remember the heron',
      response_retrieved: true,
      response_input_items: ['message'],
      response_continued: true,
      response_stream_text: 'Streamed response',
      response_cancelled: 'cancelled',
      response_deleted: true,
      file_uploaded: { id_prefix: 'file-', bytes_match: true, filename: 'input.jsonl', purpose: 'batch' },
      file_listed: true,
      file_retrieved: true,
      file_content: true,
      batch_created: { id_prefix: 'batch_', status: 'validating', metadata: { from: 'python' } },
      batch_retrieved: true,
      batch_listed: true,
      batch_cancelled: true,
      upload_chunked: { status: 'completed', file_bytes_match: true, content_match: true },
      file_deleted: true,
      file_gone: true,
    });
  });
});
