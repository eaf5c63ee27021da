import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { RedisCircuitBreaker, RedisCircuitOpenError } from './redis-circuit-breaker.ts';

const timedOut = () => Promise.reject(new Error('Command timed out'));
const refused = () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
const replyError = () => Promise.reject(Object.assign(new Error('ERR user_script:1: boom'), { name: 'ReplyError' }));

/** Lets the probe's promise settle after the timers fired. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function breaker(probe: () => Promise<unknown>) {
  const changes: Array<{ open: boolean; coolOffMs?: number }> = [];
  const probes: number[] = [];
  const subject = new RedisCircuitBreaker({
    probe: () => {
      probes.push(Date.now());
      return probe();
    },
    onChange: (open, detail) => changes.push({ open, coolOffMs: detail.coolOffMs }),
  });
  return { subject, changes, probes };
}

describe('RedisCircuitBreaker', () => {
  it('opens on a timeout: commands fail at once without being sent until a probe is answered', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    try {
      let answering = false;
      const { subject, changes, probes } = breaker(() => (answering ? Promise.resolve('PONG') : timedOut()));
      await assert.rejects(subject.run(timedOut), /timed out/);
      assert.equal(subject.closed, false);
      assert.deepEqual(changes, [{ open: true, coolOffMs: 1_000 }]);

      let sent = 0;
      await assert.rejects(subject.run(async () => (sent += 1)), RedisCircuitOpenError);
      assert.equal(sent, 0, 'not sent while open');

      // Cool-offs double while probes go unanswered: 1 s, 2 s, 4 s.
      mock.timers.tick(1_000);
      await settle();
      mock.timers.tick(1_999);
      await settle();
      assert.equal(probes.length, 1, 'one probe per cool-off');
      mock.timers.tick(1);
      await settle();
      assert.equal(probes.length, 2);
      answering = true;
      mock.timers.tick(3_999);
      await settle();
      assert.equal(subject.closed, false);
      mock.timers.tick(1);
      await settle();
      assert.equal(probes.length, 3);
      assert.equal(subject.closed, true, 'the answered probe closes it');
      assert.deepEqual(changes.at(-1), { open: false, coolOffMs: undefined });
      assert.equal(await subject.run(async () => 'OK'), 'OK');
    } finally {
      mock.timers.reset();
    }
  });

  it('opens after three fast failures in a row, not on failures between successes, nor on errors Redis answered', async () => {
    const { subject } = breaker(() => Promise.resolve('PONG'));
    for (let i = 0; i < 5; i++) {
      await assert.rejects(subject.run(refused));
      await assert.rejects(subject.run(replyError), /boom/);
      await subject.run(async () => 'OK');
    }
    assert.equal(subject.closed, true);
    await assert.rejects(subject.run(refused));
    await assert.rejects(subject.run(refused));
    assert.equal(subject.closed, true);
    await assert.rejects(subject.run(refused));
    assert.equal(subject.closed, false);
    subject.stop();
  });

  it('closes at once on reset (a reconnection), and the cool-off starts over', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    try {
      const { subject, probes } = breaker(timedOut);
      await assert.rejects(subject.run(timedOut));
      mock.timers.tick(1_000);
      await settle();
      subject.reset();
      assert.equal(subject.closed, true);
      mock.timers.tick(60_000);
      await settle();
      assert.equal(probes.length, 1, 'no probe once closed');
      await assert.rejects(subject.run(timedOut));
      mock.timers.tick(1_000);
      await settle();
      assert.equal(probes.length, 2, 'the first cool-off is 1 s again');
      subject.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
