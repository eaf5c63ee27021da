/**
 * The web console in a real browser: headless Chromium from the system's packages
 * (`/usr/bin/chromium`, installed by `.ci/run`), driven through playwright-core, against a
 * running Portico whose batches run on the mock provider through the batch engine.
 *
 * It signs in, watches a batch's bar move to completion, opens its errors grouped by code,
 * downloads its files, retries its failed lines, cancels a running batch, creates and deletes a key (the secret shown
 * once), looks at files, spend and deployments, checks that a second key sees none of the first
 * key's batches, signs in by keyboard alone, signs out, and lays the batches page out on a
 * phone's width. A screenshot of each page goes to test-output/screenshots/ (git-ignored).
 *
 * Without Chromium the suite is skipped with a note, unless PORTICO_REQUIRE_BROWSER=1 (`.ci/run`).
 */
import assert from 'node:assert/strict';
import { access, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startPorticoWithStorage, type PorticoWithStorage } from '../helpers/portico.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-output/screenshots');
const MASTER_KEY = 'sk-console-browser-master-0123456789';
/** Lines of the watched batch, and which of them fail (and how) on the mock provider. */
const LINES = 14;
const TOO_MANY_DIMENSIONS = [2, 5, 9];
const MISSING_INPUT = [11];

const configFor = (storageDir: string) => `
model_list:
  - model_name: embed-slow
    litellm_params: { model: mock/embed-slow, mock_latency_ms: 350, batch_concurrency: 1, mock_embedding_dimensions: 8 }
    model_info: { id: embed-slow-a, input_cost_per_token: 0.0001 }
  - model_name: chat
    litellm_params: { model: mock/chat, rpm: 120, tpm: 50000 }
    model_info: { id: chat-a, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
general_settings:
  master_key: ${MASTER_KEY}
  store_model_in_db: true
portico_settings:
  files: { storage_dir: ${storageDir} }
  spend_logs: { flush_interval_ms: 20 }
  batches: { poll_interval_seconds: 1 }
`;

function embeddingLines(count: number, prefix: string): string {
  return Array.from({ length: count }, (_, i) => {
    const body: Record<string, unknown> = { model: 'embed-slow', input: `line ${i}` };
    if (TOO_MANY_DIMENSIONS.includes(i)) body.dimensions = 4096;
    if (MISSING_INPUT.includes(i)) body.input = null;
    return JSON.stringify({ custom_id: `${prefix}-${i}`, method: 'POST', url: '/v1/embeddings', body });
  }).join('\n');
}

async function submitBatch(portico: PorticoWithStorage, apiKey: string, lines: string, name: string) {
  const client = portico.client(apiKey);
  const file = await client.files.create({ file: new File([lines], name), purpose: 'batch' });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/ui/`);
  await page.getByLabel('Master key or virtual key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const browserMissing = await access(CHROMIUM).then(
  () => false,
  () => true,
);
if (browserMissing && process.env.PORTICO_REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);

describe('web console in Chromium', { skip: browserMissing ? `${CHROMIUM} is not installed (apt-get install -y chromium)` : false }, () => {
  let portico: PorticoWithStorage;
  let browser: Browser;
  let master: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    portico = await startPorticoWithStorage(configFor);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
    master = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await master.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
  });
  after(async () => {
    await browser?.close();
    await portico?.close();
  });

  let watched: { id: string };
  let retried: string;

  test('signs in with the master key: the browser holds an HttpOnly session cookie, not the key', async () => {
    await page.goto(`${portico.url}/ui/`);
    await page.getByLabel('Master key or virtual key').waitFor();
    await shot(page, '01-sign-in');
    await signIn(page, portico.url, MASTER_KEY);
    const cookies = await master.cookies();
    const session = cookies.find((cookie) => cookie.name === 'portico_session');
    assert.ok(session);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!cookies.some((cookie) => cookie.value.includes(MASTER_KEY)));
    assert.equal(await page.evaluate(() => document.cookie), '', 'no script can read the session');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes(MASTER_KEY));
  });

  test('watches a batch progress to completion: the bar moves, and the end badge names the failed lines', async () => {
    watched = await submitBatch(portico, MASTER_KEY, embeddingLines(LINES, 'w'), 'watched.jsonl');
    await page.goto(`${portico.url}/ui/#/batches`);
    await page.reload();
    const bar = page.getByRole('progressbar', { name: `Progress of ${watched.id}` });
    await bar.waitFor();
    const seen = new Set<number>();
    let shotInProgress = false;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const done = Number(await bar.getAttribute('aria-valuenow'));
      seen.add(done);
      if (done > 0 && done < LINES && !shotInProgress) {
        await shot(page, '02-batches-in-progress');
        shotInProgress = true;
      }
      if (done === LINES) break;
      assert.ok(Date.now() < deadline, `the bar stopped at ${done}`);
      await page.waitForTimeout(200);
    }
    const between = [...seen].filter((done) => done > 0 && done < LINES);
    assert.ok(between.length >= 1, `the bar showed progress between 0 and ${LINES}: ${[...seen].join(', ')}`);
    const failed = TOO_MANY_DIMENSIONS.length + MISSING_INPUT.length;
    const row = page.getByRole('row').filter({ hasText: watched.id });
    await row.getByText(`completed with ${failed} failed lines`).waitFor();
    assert.equal(await row.getByText(/^completed$/).count(), 0, 'never a plain "completed"');
    await row.getByText('mock').waitFor();
    await shot(page, '03-batches');
  });

  test('filters the list by status and model', async () => {
    await page.getByLabel('Status').selectOption('with failed lines');
    await page.getByRole('row').filter({ hasText: watched.id }).waitFor();
    await page.getByLabel('Status').selectOption('running');
    await page.getByText('No batches match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('all');
    await page.getByLabel('Model').selectOption('embed-slow');
    await page.getByRole('row').filter({ hasText: watched.id }).waitFor();
  });

  test('opens the batch: errors grouped by code with counts and examples; output and error files download', async () => {
    await page.getByRole('link', { name: watched.id }).click();
    await page.getByRole('heading', { name: `Batch ${watched.id}` }).waitFor();
    const errors = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Error code' }) });
    const dimensions = errors.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'invalid_value' }) });
    await dimensions.waitFor();
    assert.equal((await dimensions.getByRole('cell').first().textContent())?.trim(), String(TOO_MANY_DIMENSIONS.length));
    for (const i of TOO_MANY_DIMENSIONS) await dimensions.getByText(`w-${i}`).waitFor();
    await dimensions.getByText(/dimensions/).first().waitFor();
    assert.equal(await errors.getByRole('rowheader').count(), 2, 'two error codes');
    await page.getByText(`${TOO_MANY_DIMENSIONS.length + MISSING_INPUT.length} failed lines, 2 error codes.`).waitFor();
    await shot(page, '04-batch-errors');

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Error file' }).click();
    const errorFile = await (await download).path();
    assert.ok(errorFile);
    const outputHref = (await page.getByRole('link', { name: 'Output file' }).getAttribute('href')) as string;
    // The page's own cookies go along, as with a click.
    const output = await page.request.get(new URL(outputHref, page.url()).toString());
    assert.equal(output.status(), 200);
    assert.equal((await output.text()).trim().split('\n').length, LINES - TOO_MANY_DIMENSIONS.length - MISSING_INPUT.length);
  });

  test('retries the failed lines: a new batch of exactly those input lines', async () => {
    const failed = TOO_MANY_DIMENSIONS.length + MISSING_INPUT.length;
    await page.getByRole('button', { name: `Retry the ${failed} failed lines` }).click();
    await page.waitForURL((url) => /#\/batches\/batch_/.test(url.hash) && !url.hash.endsWith(watched.id));
    retried = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    await page.getByRole('heading', { name: `Batch ${retried}` }).waitFor();
    await page.getByRole('link', { name: watched.id }).waitFor();
    // A batch just created may still be validating (no lines counted yet): look until they are.
    let batch = await portico.client().batches.retrieve(retried);
    for (let look = 0; look < 100 && (batch.request_counts?.total ?? 0) === 0; look += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      batch = await portico.client().batches.retrieve(retried);
    }
    assert.equal(batch.request_counts?.total, failed);
    assert.equal(batch.metadata?.retry_of, watched.id);
    const input = await (await portico.client().files.content(batch.input_file_id)).text();
    assert.deepEqual(
      input.trim().split('\n').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id).sort(),
      [...TOO_MANY_DIMENSIONS, ...MISSING_INPUT].map((i) => `w-${i}`).sort(),
    );
    await page.getByText(`completed with ${failed} failed lines`).waitFor({ timeout: 30_000 });
    await shot(page, '05-retry-batch');
  });

  test('cancels a running batch from its page', async () => {
    const running = await submitBatch(portico, MASTER_KEY, embeddingLines(LINES, 'c'), 'cancelled.jsonl');
    await page.goto(`${portico.url}/ui/#/batches/${running.id}`);
    await page.getByRole('heading', { name: `Batch ${running.id}` }).waitFor();
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await page.locator('.status-line').getByText(/^cancelled/).waitFor({ timeout: 30_000 });
    const batch = await portico.client().batches.retrieve(running.id);
    assert.equal(batch.status, 'cancelled');
    // Lines never run count as failed (Portico's emulated batches, like OpenAI's): fewer succeeded than could have.
    assert.ok((batch.request_counts?.completed ?? 0) < LINES - TOO_MANY_DIMENSIONS.length - MISSING_INPUT.length, `cancelled before every line ran: ${JSON.stringify(batch.request_counts)}`);
    assert.equal(await page.getByRole('button', { name: 'Cancel batch' }).count(), 0, 'nothing left to cancel');
  });

  test('files: metadata, placement, delete', async () => {
    const scratch = await portico.client().files.create({ file: new File([embeddingLines(2, 's')], 'scratch.jsonl'), purpose: 'batch' });
    await page.goto(`${portico.url}/ui/#/files`);
    const row = page.getByRole('row').filter({ hasText: scratch.id });
    await row.waitFor();
    await row.getByRole('button', { name: 'Details' }).click();
    await page.getByText('Stored by Portico').waitFor();
    await page.getByRole('cell').filter({ hasText: '/v1/embeddings' }).first().waitFor();
    await shot(page, '06-files');
    await row.getByRole('button', { name: 'Delete scratch.jsonl' }).click();
    await row.waitFor({ state: 'detached' });
    await assert.rejects(portico.client().files.retrieve(scratch.id), { status: 404 });
  });

  test('keys: created with an allowlist, limits and a budget, the secret shown once; then deleted', async () => {
    await page.goto(`${portico.url}/ui/#/keys`);
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    await page.getByLabel('Alias').fill('console-key');
    await page.getByLabel('Requests per minute').fill('60');
    await page.getByLabel('Budget (USD)').fill('5');
    await page.getByLabel('Budget period').fill('30d');
    await page.getByRole('checkbox', { name: 'chat' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretBox = page.getByLabel(/^Secret of/);
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    assert.match(secret, /^sk-/);
    await shot(page, '07-keys');
    const row = page.getByRole('row').filter({ hasText: 'console-key' });
    await row.getByText('60 rpm').waitFor();
    await row.getByText('$0 of $5.00').waitFor();
    const info = (await (await portico.fetch('/key/info', { apiKey: secret })).json()) as { info: { models: string[]; rpm_limit: number; max_budget: number; budget_duration: string } };
    assert.deepEqual(info.info.models, ['chat']);
    assert.equal(info.info.rpm_limit, 60);
    assert.equal(info.info.max_budget, 5);
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByText(secret).count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page any more');
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'nor after a reload');
    await row.getByRole('button', { name: 'Delete key console-key' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await portico.fetch('/v1/models', { apiKey: secret })).status, 401);
  });

  test('spend by day, model, key and team, from the ledger', async () => {
    await portico.client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'spend a little' }] });
    await page.waitForTimeout(100);
    await page.goto(`${portico.url}/ui/#/spend`);
    const byModel = page.getByRole('figure').filter({ hasText: 'By model' });
    await byModel.getByText('embed-slow').waitFor();
    await byModel.getByText('chat').waitFor();
    await page.getByRole('figure').filter({ hasText: 'By key' }).getByText('(master key)').waitFor();
    await page.getByRole('figure').filter({ hasText: 'By team' }).getByText('(no team)').waitFor();
    await page.getByRole('img', { name: /Spend per day/ }).waitFor();
    await shot(page, '08-spend');
  });

  test('deployments: health and rpm/tpm use against the limits', async () => {
    await page.goto(`${portico.url}/ui/#/deployments`);
    const chat = page.getByRole('row').filter({ hasText: 'chat-a' });
    await chat.getByText('healthy').waitFor();
    await chat.getByText(/\/ 120 rpm/).waitFor();
    await chat.getByText(/\/ 50,000 tpm/).waitFor();
    await shot(page, '09-deployments');
  });

  test('deployments: a model added in the form is served at once, its key never shown; deleting it stops it', async () => {
    await page.goto(`${portico.url}/ui/#/deployments`);
    await page.getByText('Add a model').click();
    await page.getByLabel('Model name (what clients send)').fill('added-in-console');
    await page.getByLabel('Provider model').fill('mock/added-in-console');
    await page.getByLabel('API key').fill('sk-console-provider-key-5555');
    await page.getByLabel('Requests per minute').fill('30');
    await page.getByLabel('Other litellm_params (JSON)').fill('{"mock_latency_ms": 1}');
    await page.getByRole('button', { name: 'Add model' }).click();
    const row = page.getByRole('row').filter({ hasText: 'added-in-console' });
    await row.getByText('added here').waitFor();
    await row.getByText(/\/ 30 rpm/).waitFor();
    assert.equal(await page.getByText('sk-console-provider-key-5555').count(), 0, 'the key is not on the page');
    const answer = await portico.client().chat.completions.create({ model: 'added-in-console', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices.length, 1);
    await shot(page, '09b-model-added');
    // A refusal reads as the config file's would.
    await page.getByLabel('Model name (what clients send)').fill('nowhere');
    await page.getByLabel('Provider model').fill('sagemaker/nowhere');
    await page.getByRole('button', { name: 'Add model' }).click();
    await page.getByText(/provider "sagemaker" is not supported by Portico/).waitFor();
    await row.getByRole('button', { name: 'Delete model added-in-console' }).click();
    await row.waitFor({ state: 'detached' });
    const gone = await portico.client().chat.completions.create({ model: 'added-in-console', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.equal((gone as { status?: number }).status, 404);
    // The config's models have no delete button.
    assert.equal(await page.getByRole('row').filter({ hasText: 'chat-a' }).getByRole('button').count(), 0);
  });

  test('a second key sees none of the first key\'s batches (signed in by keyboard alone)', async () => {
    const first = await portico.generateKey({ key_alias: 'first', user_id: 'ada' });
    const second = await portico.generateKey({ key_alias: 'second', user_id: 'bob' });
    const firstBatch = await submitBatch(portico, first.key, embeddingLines(2, 'a'), 'first.jsonl');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const other = await context.newPage();
      await other.goto(`${portico.url}/ui/`);
      await other.getByLabel('Master key or virtual key').waitFor();
      await other.keyboard.press('Tab');
      assert.equal(await other.evaluate(() => document.activeElement?.id), 'key', 'Tab reaches the key field first');
      await other.keyboard.type(second.key);
      await other.keyboard.press('Enter');
      await other.getByText('No batches yet.').waitFor();
      assert.equal(await other.getByRole('link', { name: 'Keys' }).count(), 0, 'no master pages for a virtual key');
      await other.getByText(`Signed in with the key ${second.token}`).waitFor();
      await shot(other, '10-second-key');
      await other.goto(`${portico.url}/ui/#/batches/${firstBatch.id}`);
      await other.getByRole('alert').filter({ hasText: 'No batch found' }).waitFor();
      // The first key itself does see it: the page is not empty for everyone.
      const own = await context.browser()!.newContext();
      const ownPage = await own.newPage();
      await signIn(ownPage, portico.url, first.key);
      await ownPage.getByRole('link', { name: firstBatch.id }).waitFor();
      await own.close();
    } finally {
      await context.close();
    }
  });

  test('on a phone\'s width the batches page fits the screen, one card per batch', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const small = await phone.newPage();
      await signIn(small, portico.url, MASTER_KEY);
      await small.getByRole('progressbar', { name: `Progress of ${watched.id}` }).waitFor();
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      await shot(small, '11-batches-phone');
    } finally {
      await phone.close();
    }
  });

  test('signs out: the cookie is gone and the sign-in form is back', async () => {
    await page.goto(`${portico.url}/ui/#/batches`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Master key or virtual key').waitFor();
    assert.equal((await master.cookies()).some((cookie) => cookie.name === 'portico_session'), false);
    assert.deepEqual(pageErrors, [], 'no script error on any page');
  });
});
