import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHeartbeat } from '../../src/serve/heartbeat.ts';

test('a heartbeat is ok from its start and while the loop beats, and says how long the loop was silent once it is not', async () => {
  const heartbeat = createHeartbeat('the watch loop', 100);
  assert.deepEqual(heartbeat.check(), { ok: true }, 'creating it is the first beat');
  await sleep(300);
  const stale = heartbeat.check();
  assert.equal(stale.ok, false);
  assert.match(stale.ok ? '' : stale.reason, /^the watch loop last ran \d+\.\d s ago \(allowed 0\.1 s\)$/);
  heartbeat.beat();
  assert.deepEqual(heartbeat.check(), { ok: true }, 'a beat makes it live again');
});

test('a long allowance is not tripped by a short silence', async () => {
  const heartbeat = createHeartbeat('the consumer', 60_000);
  await sleep(50);
  assert.deepEqual(heartbeat.check(), { ok: true });
});
