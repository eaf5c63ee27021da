import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { buildApp } from '../server/app.ts';
import { createServices } from '../server/start.ts';
import { openDatabase } from '../storage/database.ts';
import { ipAllowlist } from './ip-allowlist.ts';

describe("general_settings.allowed_ips (LiteLLM's client allowlist)", () => {
  it('allows listed addresses and subnets, IPv4 seen through a dual-stack socket included, and refuses the rest with a 403', () => {
    const list = ipAllowlist(['10.1.2.3', '192.168.0.0/16', '::1'], { useForwardedFor: false });
    for (const peer of ['10.1.2.3', '::ffff:10.1.2.3', '192.168.44.5', '::1']) assert.equal(list.check(peer, undefined), undefined, peer);
    for (const peer of ['10.1.2.4', '172.16.0.1', '::2', undefined, 'not-an-ip']) {
      const denied = list.check(peer, undefined);
      assert.equal(denied?.httpStatus, 403, String(peer));
      assert.equal(denied?.code, 'ip_not_allowed');
    }
    // The header counts only when the gateway is told it sits behind a proxy that sets it.
    assert.equal(list.check('172.16.0.1', '10.1.2.3')?.httpStatus, 403);
    const behindProxy = ipAllowlist(['10.1.2.3'], { useForwardedFor: true });
    assert.equal(behindProxy.check('172.16.0.1', '10.1.2.3, 172.16.0.1'), undefined);
    assert.equal(behindProxy.check('10.1.2.3', '172.16.9.9')?.httpStatus, 403);
  });

  it('an entry that is not an address or a subnet is a config error naming it', () => {
    for (const entry of ['10.0.0.300', '10.0.0.0/33', 'localhost', '10.0.0.0/8/1']) {
      assert.throws(() => parseConfig(`model_list: []\ngeneral_settings:\n  allowed_ips: ["${entry}"]\n`, {}), (error: Error) => error.message.startsWith(`general_settings.allowed_ips: "${entry}" is not an IP address or a subnet`), entry);
    }
  });

  it('the gateway refuses a client not on the list before reading its key, in the OpenAI envelope; the probes stay open', async () => {
    const config = parseConfig('model_list:\n  - {model_name: m, litellm_params: {model: mock/m}}\ngeneral_settings:\n  master_key: sk-master\n  allowed_ips: ["10.0.0.0/8"]\n', {});
    const database = await openDatabase('file::memory:');
    const app = await buildApp(await createServices(config, database, createLogger({ level: 'silent' })));
    try {
      const models = (remoteAddress: string, authorization = 'Bearer sk-master') => app.inject({ method: 'GET', url: '/v1/models', headers: { authorization }, remoteAddress });
      assert.equal((await models('10.9.8.7')).statusCode, 200);
      for (const authorization of ['Bearer sk-master', 'Bearer wrong']) {
        const refused = await models('203.0.113.5', authorization);
        assert.equal(refused.statusCode, 403);
        assert.deepEqual(refused.json(), { error: { message: 'Access forbidden: this IP address is not allowed (general_settings.allowed_ips).', type: 'permission_error', param: null, code: 'ip_not_allowed' } });
      }
      assert.equal((await app.inject({ method: 'GET', url: '/health/liveliness', remoteAddress: '203.0.113.5' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'POST', url: '/ui/api/session', payload: { key: 'sk-master' }, remoteAddress: '203.0.113.5' })).statusCode, 403, 'the console sign-in too');
    } finally {
      await app.close();
      await database.close();
    }
  });
});
