// waitUntilReady, the polling loop, with in-process probes whose checks answer as scripted: when it returns, what it
// logs, and what the NotReadyError says when the deadline comes first. Deadlines are a few hundred milliseconds.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitCodeFor, NotReadyError } from '../../src/errors.ts';
import type { Probe, ProbeResult } from '../../src/readiness/probe.ts';
import { waitUntilReady } from '../../src/readiness/wait-until-ready.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import type { TimeBudget } from '../../src/retry/time-budget.ts';
import { captureLog, INFO, WARN } from '../support/capture-log.ts';

// createDeadline counts from the start of the process (a hook's clock starts with the exec).
const deadlineIn = (ms: number) => createDeadline(performance.now() + ms);
const TARGET = 'http://127.0.0.1:8080/healthz';
const notReady = (detail: string): ProbeResult => ({ ready: false, detail });

/** A probe that answers each check with the next step of the script (the last step repeats), recording the budgets. */
function scriptedProbe(script: ((budget: TimeBudget) => Promise<ProbeResult> | ProbeResult)[]) {
  const budgets: { budget: TimeBudget; at: number }[] = [];
  const probe: Probe = {
    target: TARGET,
    check: async (budget) => {
      budgets.push({ budget, at: performance.now() });
      const step = script[Math.min(budgets.length, script.length) - 1];
      assert.ok(step);
      return step(budget);
    },
  };
  return { probe, budgets };
}

/** The deadline's signal (AbortSignal.timeout) keeps no process alive; in a run, src/cli/run.ts's watchdog does. */
function keepAlive(t: TestContext): void {
  const timer = setTimeout(() => undefined, 10_000);
  t.after(() => clearTimeout(timer));
}

/** A check that gets no answer: it ends when its budget does (its own limit, or the deadline). */
async function hangs(budget: TimeBudget): Promise<ProbeResult> {
  await Promise.race([sleep(budget.timeoutMs), new Promise((resolve) => budget.signal.addEventListener('abort', resolve, { once: true }))]);
  return notReady('timed out');
}

/** A check whose timer fires 2 ms before its limit by performance.now(), as a real one can; then the deadline ends the run. */
async function firesEarly(budget: TimeBudget): Promise<ProbeResult> {
  await sleep(Math.max(0, budget.timeoutMs - 2));
  return { ...notReady('no answer within 2ms'), timedOut: true };
}

test('not ready a few times, then ready: returns the count, logs each change once', async () => {
  const { log, at } = captureLog('info');
  const deadline = deadlineIn(5000);
  const { probe, budgets } = scriptedProbe([() => notReady('503'), () => notReady('503'), () => notReady('ECONNREFUSED'), () => ({ ready: true, detail: '200 OK' })]);
  assert.deepEqual(await waitUntilReady(probe, { deadline, intervalMs: 10, checkTimeoutMs: 1000, log }), { checks: 4 });
  assert.equal(budgets.length, 4);
  assert.deepEqual(at(INFO).map((line) => [line.msg, line.seen]), [['app not ready yet', '503'], ['app not ready yet', 'ECONNREFUSED'], ['app ready (200 OK)', undefined]]);
  assert.equal(at(INFO).at(-1)?.checks, 4);
  assert.equal(at(INFO).at(-1)?.target, TARGET);
  assert.equal(at(WARN).length, 0);
  for (const [index, { budget, at: started }] of budgets.entries()) {
    assert.equal(budget.timeoutMs, 1000, 'the check gets its whole limit while the deadline is far');
    assert.equal(budget.signal, deadline.signal);
    if (index > 0) assert.ok(started - budgets[index - 1]!.at >= 9, `checks ${index} and ${index + 1} are an interval apart`);
  }
});

test('ready with a warning: the warning is logged, and it counts as ready', async () => {
  const { log, at } = captureLog('info');
  const warning = 'redirected to http://other.test/ready, another host: not followed, counted as ready (as the kubelet does)';
  const { probe } = scriptedProbe([() => ({ ready: true, detail: '302 Found', warning })]);
  assert.deepEqual(await waitUntilReady(probe, { deadline: deadlineIn(5000), intervalMs: 10, checkTimeoutMs: 1000, log }), { checks: 1 });
  assert.deepEqual(at(WARN).map((line) => [line.msg, line.target]), [[warning, TARGET]]);
  assert.equal(at(INFO).at(-1)?.msg, 'app ready (302 Found)');
});

test('never ready: NotReadyError names the target, the checks made and the last thing seen', async () => {
  const { log, at } = captureLog('info');
  const { probe, budgets } = scriptedProbe([() => notReady('ECONNREFUSED'), () => notReady('503 Service Unavailable')]);
  const started = performance.now();
  await assert.rejects(waitUntilReady(probe, { deadline: deadlineIn(250), intervalMs: 20, checkTimeoutMs: 1000, log }), (error) => {
    assert.ok(error instanceof NotReadyError);
    const match = /^the app was not ready at http:\/\/127\.0\.0\.1:8080\/healthz within \S+ \((\d+) checks, last: 503 Service Unavailable\); nothing registered$/.exec(error.message);
    assert.ok(match, error.message);
    assert.equal(Number(match[1]), budgets.length, 'the count is the checks made');
    assert.deepEqual([exitCodeFor(error, false), exitCodeFor(error, true)], [0, 3]);
    return true;
  });
  const took = performance.now() - started;
  assert.ok(budgets.length >= 5, `${budgets.length} checks in 250 ms at a 20 ms interval`);
  assert.ok(took >= 240 && took < 250 + 300, `gave up ${Math.round(took)} ms after start`);
  assert.deepEqual(at(INFO).map((line) => line.seen), ['ECONNREFUSED', '503 Service Unavailable'], 'a repeated detail is logged once');
});

test('a check cut short by the deadline keeps the last full check\'s detail', async (t) => {
  keepAlive(t);
  const cases = [
    // Two quick answers, then a check that hangs until the deadline ends it.
    { name: 'ended by the deadline', limit: 10_000, script: [() => notReady('503'), () => notReady('503'), hangs] },
    // Quick answers while a whole limit fits before the deadline; then a check given only what was left uses it all.
    { name: 'given only what was left', limit: 150, script: [(budget: TimeBudget) => (budget.timeoutMs < 150 ? hangs(budget) : notReady('503'))] },
    // The same, with the check's timer firing before timeoutMs has passed by the caller's clock (libuv starts a timer
    // from the loop's cached time): the probe's own word that its time ran out is what counts.
    { name: 'its timer fired early', limit: 150, script: [(budget: TimeBudget) => (budget.timeoutMs < 150 ? firesEarly(budget) : notReady('503'))] },
  ];
  for (const { name, limit, script } of cases) {
    const { log } = captureLog('silent');
    const { probe, budgets } = scriptedProbe(script);
    await assert.rejects(waitUntilReady(probe, { deadline: deadlineIn(300), intervalMs: 20, checkTimeoutMs: limit, log }), (error) => {
      assert.ok(error instanceof NotReadyError);
      assert.match(error.message, new RegExp(`\\(${budgets.length} checks, last: 503\\); nothing registered$`), name);
      return true;
    });
    assert.ok(budgets.length >= 3, `${name}: ${budgets.length} checks`);
    const last = budgets.at(-1)!.budget;
    assert.ok(last.timeoutMs < limit, `${name}: the last check got ${last.timeoutMs} ms, less than its ${limit} ms limit`);
  }
});

test('when the only check is cut short, its detail is all there is; a passed deadline checks nothing', async (t) => {
  keepAlive(t);
  const { log } = captureLog('silent');
  const only = scriptedProbe([hangs]);
  await assert.rejects(waitUntilReady(only.probe, { deadline: deadlineIn(150), intervalMs: 20, checkTimeoutMs: 1000, log }), /\(1 checks, last: timed out\); nothing registered$/);
  assert.equal(only.budgets.length, 1);
  assert.ok(only.budgets[0]!.budget.timeoutMs <= 150, 'the check was given what was left, not its 1 s limit');

  const none = scriptedProbe([() => ({ ready: true, detail: '200 OK' })]);
  await assert.rejects(waitUntilReady(none.probe, { deadline: deadlineIn(-1), intervalMs: 20, checkTimeoutMs: 1000, log }), /\(0 checks, last: never checked\); nothing registered$/);
  assert.equal(none.budgets.length, 0);
});
