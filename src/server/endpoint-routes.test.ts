/**
 * The model routes and the endpoint table (`spec/endpoints.ts`) agree: every live entry is
 * served with and without `/v1`, no model route exists outside the table and the audio routes
 * (`spec/audio.ts`, whose forms and bytes are not the table's JSON), and the key rate-limit hook
 * covers exactly the entries marked `rateLimited` and the audio routes. The whole route table is
 * registered, as the server does, with a recorder in front.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { ROUTE_ENDPOINTS } from '../spec/endpoints.ts';
import { AUDIO_PATHS } from '../spec/audio.ts';
import { ANTHROPIC_MESSAGES_PATH } from '../spec/anthropic-messages.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { buildApp } from './app.ts';
import { RATE_LIMITED_ROUTES } from './rate-limit-hook.ts';
import { ROUTE_MODULES } from './routes/index.ts';
import { modelEndpointUrls } from './routes/paths.ts';
import type { RouteModule } from './services.ts';
import { createServices } from './start.ts';

function configYaml(storageDir: string): string {
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:9/v1
      api_key: sk-unused
general_settings:
  master_key: sk-master-endpoint-routes
portico_settings:
  files:
    storage_dir: ${storageDir}
`;
}

describe('model routes and the endpoint table', () => {
  const routes: RouteOptions[] = [];
  const recorder: RouteModule = {
    name: 'route-recorder',
    register(app) {
      app.addHook('onRoute', (route) => void routes.push(route));
    },
  };
  let app: FastifyInstance;
  let database: Database;
  let storageDir: string;

  before(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'portico-endpoint-routes-'));
    database = await openDatabase('file::memory:');
    const logger = createLogger({ level: 'silent' });
    const services = await createServices(parseConfig(configYaml(storageDir), {}), database, logger);
    app = await buildApp(services, { routes: [recorder, ...ROUTE_MODULES] });
  });
  after(async () => {
    await app?.close();
    await database?.close();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  it('serves exactly the live entries of the table as model routes, with and without /v1, and their extra paths', () => {
    const modelRoutes = routes.filter((route) => route.config?.modelEndpoint !== undefined);
    const expected = [...ROUTE_ENDPOINTS.flatMap(modelEndpointUrls), ...[...AUDIO_PATHS, ANTHROPIC_MESSAGES_PATH].flatMap((path) => modelEndpointUrls({ path }))];
    assert.deepEqual(modelRoutes.map((route) => route.url).sort(), [...expected].sort());
    for (const route of modelRoutes) assert.equal(route.method, 'POST', route.url);
    assert.deepEqual(modelRoutes.filter((route) => route.config?.modelEndpoint === '/rerank').map((route) => route.url).sort(), ['/rerank', '/v1/rerank', '/v2/rerank']);
  });

  it('serves no path of the table through another route', () => {
    const tablePaths = new Set(ROUTE_ENDPOINTS.flatMap(modelEndpointUrls));
    const others = routes.filter((route) => route.config?.modelEndpoint === undefined && tablePaths.has(route.url));
    assert.deepEqual(others.map((route) => `${String(route.method)} ${route.url}`), []);
  });

  it('rate-limits the registered model routes the table marks, and nothing else', () => {
    const registered = new Set(routes.map((route) => route.url));
    for (const url of RATE_LIMITED_ROUTES) assert.ok(registered.has(url), `${url} is rate-limited but not registered`);
    const rateLimitedPaths = new Set([...ROUTE_ENDPOINTS.filter((endpoint) => endpoint.rateLimited).map((endpoint) => endpoint.path), ...AUDIO_PATHS, ANTHROPIC_MESSAGES_PATH]);
    const marked = routes.filter((route) => rateLimitedPaths.has(route.config?.modelEndpoint ?? '')).map((route) => route.url);
    assert.deepEqual([...RATE_LIMITED_ROUTES].sort(), marked.sort());
  });
});
