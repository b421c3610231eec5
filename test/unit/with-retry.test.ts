// withRetry, the one retry layer, on a real deadline: what is retried, how long it waits, when it gives up, and the
// budget it hands each attempt. Deadlines are short (a second or two) so the whole file runs in a few seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CmdbRejectedError, CmdbUnavailableError, exitCodeFor } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import type { TimeBudget } from '../../src/retry/time-budget.ts';
import { withRetry } from '../../src/retry/with-retry.ts';
import { captureLog, WARN } from '../support/capture-log.ts';

// createDeadline counts from the start of the process (a hook's clock starts with the exec): a deadline `ms` from now
// is one of performance.now() + ms.
const deadlineIn = (ms: number) => createDeadline(performance.now() + ms);
const silent = createLogger({ level: 'silent', command: 'test' });
const DURATION = '\\d+(\\.\\d)?m?s';

/** An operation that fails as scripted (an error, or undefined for success) and records when each attempt ran. */
function scripted(script: (Error | undefined)[]) {
  const attempts: { at: number; budget: TimeBudget }[] = [];
  const operation = (budget: TimeBudget) => {
    attempts.push({ at: performance.now(), budget });
    const error = script[attempts.length - 1];
    return error ? Promise.reject(error) : Promise.resolve(`done after ${attempts.length}`);
  };
  return { attempts, operation };
}

test('transient failures are retried until one attempt succeeds', async () => {
  const { log, at } = captureLog('warn');
  const { attempts, operation } = scripted([new CmdbUnavailableError('503 Service Unavailable'), new CmdbUnavailableError('ECONNREFUSED'), undefined]);
  const result = await withRetry(operation, { what: 'register record u_app', deadline: deadlineIn(5000), attemptTimeoutMs: 1000, log });
  assert.equal(result, 'done after 3');
  assert.equal(attempts.length, 3);
  const warnings = at(WARN);
  assert.deepEqual(warnings.map((line) => [line.attempt, line.msg]), [[1, 'register record u_app: attempt 1 failed, retrying'], [2, 'register record u_app: attempt 2 failed, retrying']]);
  // p-retry's backoff: 200 ms, then 400 ms, each times 1 to 2 (jitter).
  const [first, second, third] = attempts.map((attempt) => attempt.at);
  assert.ok(second! - first! >= 195 && second! - first! < 400 + 300, `first wait ${second! - first!} ms`);
  assert.ok(third! - second! >= 395 && third! - second! < 800 + 300, `second wait ${third! - second!} ms`);
});

test('a permanent refusal and a plain error are not retried, and come out as they went in', async () => {
  for (const error of [new CmdbRejectedError('422 Unprocessable Entity', { status: 422 }), new Error('a bug'), new TypeError('x is not a function')]) {
    const { attempts, operation } = scripted([error, undefined]);
    const started = performance.now();
    await assert.rejects(withRetry(operation, { what: 'deregister record u_app', deadline: deadlineIn(5000), attemptTimeoutMs: 1000, log: silent }), (thrown) => thrown === error);
    assert.equal(attempts.length, 1, error.name);
    assert.ok(performance.now() - started < 150, `${error.name} gave up at once`);
  }
});

test('Retry-After is honoured: the next attempt waits at least that long (plus up to 20% jitter)', async () => {
  const { log, at } = captureLog('warn');
  const { attempts, operation } = scripted([new CmdbUnavailableError('429 Too Many Requests', { status: 429, retryAfterMs: 600 }), undefined]);
  await withRetry(operation, { what: 'register record u_app', deadline: deadlineIn(5000), attemptTimeoutMs: 1000, log });
  const waited = attempts[1]!.at - attempts[0]!.at;
  assert.ok(waited >= 595, `waited ${waited} ms for a Retry-After of 600 ms`);
  assert.ok(waited < 720 + 300, `waited ${waited} ms: at most 600 ms + 20%, plus scheduling`);
  const [warning] = at(WARN);
  assert.equal(warning?.retryAfterMs, 600);
  assert.ok(Number(warning?.retryInMs) >= 600 && Number(warning?.retryInMs) <= 720, `retryInMs ${String(warning?.retryInMs)}`);
});

test('when the next wait would cross the deadline, it gives up at once and says so', async () => {
  const asked = new CmdbUnavailableError('503 Service Unavailable', { status: 503, retryAfterMs: 10_000 });
  const { attempts, operation } = scripted([asked, undefined]);
  const started = performance.now();
  await assert.rejects(withRetry(operation, { what: 'register record u_app', deadline: deadlineIn(1500), attemptTimeoutMs: 1000, log: silent }), (error) => {
    assert.ok(error instanceof CmdbUnavailableError);
    assert.match(error.message, new RegExp(`^register record u_app failed 1 time\\(s\\) in ${DURATION}, and the next try \\(in 1\\d\\.?\\d?s\\) would pass the ${DURATION} deadline; last: 503 Service Unavailable$`));
    assert.equal(error.cause, asked);
    assert.equal(exitCodeFor(error, true), 5);
    return true;
  });
  assert.equal(attempts.length, 1);
  assert.ok(performance.now() - started < 200, 'no wait before giving up');
});

test('an attempt that ends after the deadline ends the retries: "until the deadline passed", with the last error', async (t) => {
  const deadline = deadlineIn(300);
  const attempts: TimeBudget[] = [];
  // Each attempt runs until its signal (the deadline's) fires, like a request that never gets an answer.
  const operation = async (budget: TimeBudget) => {
    attempts.push(budget);
    if (!budget.signal.aborted) await new Promise((resolve) => budget.signal.addEventListener('abort', resolve, { once: true }));
    throw new CmdbUnavailableError('POST /records: timed out');
  };
  const started = performance.now();
  // The deadline's signal (AbortSignal.timeout) does not keep a process alive; in a run, src/cli/run.ts's watchdog does.
  const keepAlive = setTimeout(() => undefined, 5000);
  t.after(() => clearTimeout(keepAlive));
  await assert.rejects(withRetry(operation, { what: 'register record u_app', deadline, attemptTimeoutMs: 10_000, log: silent }), (error) => {
    assert.ok(error instanceof CmdbUnavailableError);
    assert.match(error.message, new RegExp(`^register record u_app failed 1 time\\(s\\) in ${DURATION}, until the ${DURATION} deadline passed; last: POST /records: timed out$`));
    assert.ok(error.cause instanceof CmdbUnavailableError);
    return true;
  });
  assert.equal(attempts.length, 1);
  const took = performance.now() - started;
  assert.ok(took >= 280 && took < 300 + 500, `ended ${Math.round(took)} ms after start, at the 300 ms deadline`);
});

test('each attempt gets at most attemptTimeoutMs, never more than the deadline has left', async () => {
  const deadline = deadlineIn(1000);
  const budgets: { budget: TimeBudget; remaining: number }[] = [];
  // The first attempt uses 400 ms, so the second (after a 200 to 400 ms backoff) starts with less than 500 ms left.
  const operation = async (budget: TimeBudget) => {
    budgets.push({ budget, remaining: deadline.remaining() });
    if (budgets.length > 1) return 'ok';
    await sleep(400);
    throw new CmdbUnavailableError('502 Bad Gateway');
  };
  assert.equal(await withRetry(operation, { what: 'register record u_app', deadline, attemptTimeoutMs: 500, log: silent }), 'ok');
  assert.equal(budgets.length, 2);
  const [first, second] = budgets;
  assert.equal(first!.budget.timeoutMs, 500, 'the first attempt gets the whole attemptTimeoutMs');
  assert.ok(second!.budget.timeoutMs < 500, `the second gets what is left: ${second!.budget.timeoutMs} ms`);
  for (const { budget, remaining } of budgets) {
    assert.equal(budget.signal, deadline.signal, 'the attempt ends with the deadline');
    assert.ok(budget.timeoutMs <= 500);
    assert.ok(budget.timeoutMs <= remaining + 1, `${budget.timeoutMs} ms given, ${remaining} ms left`);
    assert.ok(budget.endsAt <= deadline.totalMs + 1, 'the attempt ends no later than the deadline');
  }
});

test('a permanent refusal that arrives as the deadline passes stays a refusal (exit 4 with --strict), not an outage', async () => {
  const deadline = deadlineIn(150);
  const refusal = new CmdbRejectedError('PUT /records/u_app answered 403 Forbidden', { status: 403 });
  const late = async () => {
    await sleep(300);
    throw refusal;
  };
  const error: unknown = await withRetry(late, { what: 'register record u_app', deadline, attemptTimeoutMs: 1000, log: silent }).catch((caught: unknown) => caught);
  assert.equal(error, refusal);
  assert.equal(exitCodeFor(error, true), 4);
});
