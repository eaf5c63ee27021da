/** The Slack incoming-webhook simulator answers Slack's official `@slack/webhook` client as Slack does. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IncomingWebhook } from '@slack/webhook';
import { type SlackSimulator, startSlackSimulator } from './slack-simulator.ts';

describe('Slack incoming-webhook simulator', () => {
  let slack: SlackSimulator;
  before(async () => {
    slack = await startSlackSimulator();
  });
  after(() => slack.close());

  it('takes a text message (and blocks) from the official client, answering ok', async () => {
    const url = slack.newWebhookUrl();
    const webhook = new IncomingWebhook(url);
    const sent = await webhook.send({ text: 'Budget crossed' });
    assert.equal(sent.text, 'ok');
    await webhook.send({ blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*alert*' } }] });
    assert.deepEqual(slack.messages.map((message) => [message.path, message.text ?? null, message.blocks?.length ?? 0]), [
      [new URL(url).pathname, 'Budget crossed', 0],
      [new URL(url).pathname, null, 1],
    ]);
  });

  it("refuses what Slack refuses: an empty message, a webhook that does not exist", async () => {
    const webhook = new IncomingWebhook(slack.newWebhookUrl());
    await assert.rejects(webhook.send({}), /400/);
    await assert.rejects(new IncomingWebhook(`${slack.origin}/services/T0/B0/nothere`).send({ text: 'x' }), /404/);
  });
});
