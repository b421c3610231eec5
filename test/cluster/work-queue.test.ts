// The controller's work queue, in-process: the memory CMDB or fake operations behind it, short backoffs (tens of ms)
// so the whole file runs in a second or two. Timing is asserted only as bounds with margins. The rate limit and a CMDB
// outage are in work-queue-drain.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBackend } from '../../src/cmdb/memory/backend.ts';
import { CmdbRejectedError, CmdbUnavailableError } from '../../src/errors.ts';
import { captureLog, WARN } from '../support/capture-log.ts';
import { action, apply, held, idOf, queueOf, until } from './work-queue-support.ts';

test('coalescing: many adds of one key are one operation with the last state, queued or not yet started', async (t) => {
  const cmdb = createMemoryBackend();
  const queue = queueOf(t, { run: apply(cmdb), concurrency: 1 });
  for (let i = 0; i < 100; i++) queue.add(idOf(1), action(1, `v${i}`));
  await queue.idle();
  assert.deepEqual(cmdb.calls, [{ operation: 'upsert', id: idOf(1) }]);
  assert.equal(cmdb.records.get(idOf(1))?.fields.team, 'v99');

  // Queued behind another key, across many ticks: still one operation, with the latest state.
  const fake = held();
  const behind = queueOf(t, { run: fake.run, concurrency: 1 });
  behind.add(idOf(2), action(2));
  await until('the first key in flight', () => fake.held() === 1);
  for (let i = 0; i < 10; i++) {
    behind.add(idOf(3), action(3, `w${i}`));
    await sleep(2);
  }
  assert.deepEqual(behind.counts(), { queued: 1, inFlight: 1, done: 0, failed: 0, retried: 0 });
  fake.release();
  await until('the queued key in flight', () => fake.held() === 1);
  fake.release();
  await behind.idle();
  assert.deepEqual(fake.runs.map((run) => [run.key, run.team]), [[idOf(2), 'web'], [idOf(3), 'w9']]);
});

test('a key added while in flight runs once more afterwards with the latest state, never twice at once', async (t) => {
  const fake = held();
  const queue = queueOf(t, { run: fake.run });
  queue.add(idOf(1), action(1, 'a'));
  await until('a in flight', () => fake.held() === 1);
  queue.add(idOf(1), action(1, 'b'));
  queue.add(idOf(1), action(1, 'c'));
  await sleep(30);
  assert.equal(fake.runs.length, 1, 'not started again while in flight');
  assert.deepEqual(queue.counts(), { queued: 1, inFlight: 1, done: 0, failed: 0, retried: 0 });
  fake.release();
  await until('the re-run', () => fake.runs.length === 2 && fake.held() === 1);
  // The state being written again: that run already does it, nothing more is queued.
  queue.add(idOf(1), action(1, 'c'));
  fake.release();
  await queue.idle();
  assert.deepEqual(fake.runs.map((run) => run.team), ['a', 'c']);
  assert.equal(fake.overlap(), 1);
  assert.deepEqual(queue.counts(), { queued: 0, inFlight: 0, done: 2, failed: 0, retried: 0 });
});

test('at most `concurrency` operations are in flight', async (t) => {
  let now = 0;
  let most = 0;
  const queue = queueOf(t, {
    concurrency: 3,
    run: async () => {
      most = Math.max(most, ++now);
      await sleep(40);
      now--;
    },
  });
  for (let n = 0; n < 12; n++) queue.add(idOf(n), action(n));
  await until('three in flight', () => queue.counts().inFlight === 3);
  await queue.idle();
  assert.equal(most, 3);
  assert.equal(queue.counts().done, 12);
});

test('a transient failure is retried with growing backoff (Retry-After honoured), without holding a slot', async (t) => {
  const cmdb = createMemoryBackend();
  const attempts: number[] = [];
  const others: number[] = [];
  const run = apply(cmdb);
  const queue = queueOf(t, {
    concurrency: 1,
    backoff: { minTimeout: 50, maxTimeout: 1000 },
    run: (key, step, budget) => {
      (key === idOf(1) ? attempts : others).push(performance.now());
      // The memory CMDB's failNext counts every call: this key alone fails its first three attempts.
      if (key === idOf(1) && attempts.length <= 3) cmdb.failNext(1);
      return run(key, step, budget);
    },
  });
  queue.add(idOf(1), action(1));
  await until('the first failure', () => attempts.length === 1 && queue.counts().inFlight === 0);
  // The one slot is free while the failed key waits: another key runs meanwhile.
  queue.add(idOf(2), action(2));
  await queue.idle();
  assert.equal(attempts.length, 4);
  assert.equal(others.length, 1);
  assert.ok(others[0]! < attempts[3]!, 'the other key did not wait for the retries');
  assert.deepEqual(queue.counts(), { queued: 0, inFlight: 0, done: 2, failed: 0, retried: 3 });
  // 50 ms × 2^(n-1), times 1 to 2.
  const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
  gaps.forEach((gap, i) => {
    const base = 50 * 2 ** i;
    assert.ok(gap >= base - 2 && gap < 2 * base + 250, `wait ${i + 1}: ${Math.round(gap)} ms for a base of ${base} ms`);
  });
  assert.ok(cmdb.records.has(idOf(1)));

  const asked: number[] = [];
  let first = true;
  const polite = queueOf(t, {
    run: () => {
      asked.push(performance.now());
      if (!first) return Promise.resolve();
      first = false;
      return Promise.reject(new CmdbUnavailableError('429 Too Many Requests', { status: 429, retryAfterMs: 300 }));
    },
  });
  polite.add(idOf(3), action(3));
  await polite.idle();
  assert.equal(asked.length, 2);
  assert.ok(asked[1]! - asked[0]! >= 298, `waited ${Math.round(asked[1]! - asked[0]!)} ms for a Retry-After of 300 ms`);
});

test('a permanent refusal is reported once and dropped until the desired state changes', async (t) => {
  const { log, at } = captureLog('warn');
  const reports: [string, string | undefined][] = [];
  const runs: (string | undefined)[] = [];
  const queue = queueOf(t, {
    log,
    run: (_key, step) => {
      runs.push(step.record.fields.team);
      return step.record.fields.team === 'bad' ? Promise.reject(new CmdbRejectedError('422 Unprocessable Entity', { status: 422 })) : Promise.resolve();
    },
    onRejected: (key, step) => reports.push([key, step.record.fields.team]),
  });
  queue.add(idOf(1), action(1, 'bad'));
  await queue.idle();
  // The next passes ask for the same state again (a new object, equal): nothing runs, nothing is reported.
  queue.add(idOf(1), action(1, 'bad'));
  await queue.idle();
  queue.add(idOf(1), action(1, 'bad'));
  await queue.idle();
  assert.deepEqual(runs, ['bad']);
  assert.deepEqual(reports, [[idOf(1), 'bad']]);
  assert.deepEqual(at(WARN).map((line) => [line.key, line.msg]), [[idOf(1), `${idOf(1)}: refused; not tried again until its desired state changes`]]);
  assert.deepEqual(queue.counts(), { queued: 0, inFlight: 0, done: 0, failed: 1, retried: 0 });

  queue.add(idOf(1), action(1, 'good'));
  await queue.idle();
  assert.deepEqual(runs, ['bad', 'good']);
  // Refused again; forget() clears the refusal, so the same state runs once more.
  queue.add(idOf(1), action(1, 'bad'));
  await queue.idle();
  queue.forget(idOf(1));
  queue.add(idOf(1), action(1, 'bad'));
  await queue.idle();
  assert.deepEqual(runs, ['bad', 'good', 'bad', 'bad']);
  assert.equal(reports.length, 3);
  assert.deepEqual(queue.counts(), { queued: 0, inFlight: 0, done: 1, failed: 3, retried: 0 });
});

test('abort: nothing more starts, in-flight operations finish or abort with the signal, idle() resolves', async (t) => {
  const started: string[] = [];
  const queue = queueOf(t, {
    concurrency: 2,
    run: async (key, _step, budget) => {
      started.push(key);
      // One operation ignores the signal and ends on its own; the other ends with it.
      if (key === idOf(0)) await sleep(80);
      else await sleep(10_000, undefined, { signal: budget.signal });
    },
  });
  for (let n = 0; n < 5; n++) queue.add(idOf(n), action(n));
  await until('two in flight', () => started.length === 2);
  const stoppedAt = performance.now();
  queue.stop();
  await queue.idle();
  const took = performance.now() - stoppedAt;
  assert.ok(took >= 50 && took < 2000, `idle ${Math.round(took)} ms after the stop`);
  assert.deepEqual(started, [idOf(0), idOf(1)]);
  assert.deepEqual(queue.counts(), { queued: 0, inFlight: 0, done: 1, failed: 0, retried: 0 });
  queue.add(idOf(9), action(9));
  await queue.idle();
  await sleep(20);
  assert.deepEqual(started, [idOf(0), idOf(1)], 'nothing starts after the stop');
});

test('idle() resolves at once when empty, and otherwise only when everything is done', async (t) => {
  const queue = queueOf(t, { run: () => sleep(20) });
  const early = await Promise.race([queue.idle().then(() => 'idle'), sleep(200).then(() => 'waiting')]);
  assert.equal(early, 'idle');
  for (let n = 0; n < 10; n++) queue.add(idOf(n), action(n));
  const pending = queue.idle().then(() => queue.counts());
  assert.deepEqual(await pending, { queued: 0, inFlight: 0, done: 10, failed: 0, retried: 0 });
});
