// Every promise of README "Exit codes" under hostile peers, as one table: each CMDB fault x register/deregister x
// --strict or not, and each readiness fault x --strict or not (register, with a healthy CMDB). Every row checks the
// documented exit code (0 fail-open; 3, 4, 5 with --strict; 2 for config errors regardless), an end within --timeout
// + 1 s from spawn to exit, peak memory near a plain run's, and no piece of the token in stdout, stderr or the
// --log-file, in any form the agent promises to mask. test/PROMISES.md maps each README promise to its test.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import { makeBadServerCertificates, makeCertificates } from '../support/certificates.ts';
import { behaviours, refusedOrigin, serve, startPeer, type Fault, type Target } from '../support/faults.ts';
import { baseFlags, downwardEnv, hookCommand, podinfoDir, runProcess, type HookRun } from '../support/run-hook.ts';
import { startSandboxCmdb } from '../support/sandbox-cmdb.ts';
import { leakedPieces } from '../support/secret-forms.ts';
import { canUseNamespaces, startSilentDns, type SilentDns } from '../support/silent-dns.ts';

// Rows that wait for the deadline get a short one. The deadline counts from the process start (src/retry/deadline.ts),
// and a start on a loaded machine can take seconds: rows decided by the first answer get a long one, so that their
// verdict never races the deadline; they prove "at once" by making one connection only.
const TIMEOUT_MS = 3000;
const AT_ONCE_TIMEOUT_MS = 10_000;
// The promise itself: "the process ends within --timeout plus one second", counted here from spawn to exit.
const GRACE_MS = 1000;
// Rows run this many at a time: most of a row is waiting for its deadline, and the machine has 2 cores. Their
// starts, the CPU-heavy part, are spaced out: a run's deadline counts from its start, and four starts at once on two
// loaded cores took over a second each.
const CONCURRENCY = 4;
const START_SPACING_MS = 300;
// Over a plain run of the same binary (measured below). README: a bounded answer adds what the plain run already
// peaks at, and readiness headers up to their 64 KiB bound add 6 to 10 MB.
const MEMORY_MARGIN_MIB = 12;
const TOKEN = 'fmx.Q7/zK9+vT3-w_8Lr~P2sN6';

const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-matrix-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const tokenFile = file('token', `${TOKEN}\n`);
const podinfo = podinfoDir({ labels: 'app="shop"' });
const certs = makeCertificates();
const badServer = makeBadServerCertificates(certs);

// One silent nameserver for the rows that need it, started by the first of them (rows run concurrently).
let dns: Promise<SilentDns> | undefined;
const mtls = (cert: string, key: string) => ['--cmdb-ca-file', certs.caFile, '--cmdb-cert-file', cert, '--cmdb-key-file', key];
const FOREVER = '9999999999';

const CMDB_FAULTS: Fault[] = [
  { name: 'connection refused', start: async () => ({ url: `${await refusedOrigin()}/records` }), exit: 5, says: /ECONNREFUSED/ },
  { name: 'blackhole (accepts, never answers)', start: serve(behaviours.blackhole(), '/records'), exit: 5, says: /no answer before the deadline/ },
  {
    name: 'DNS blackhole with a pod\'s search list and ndots:5',
    needs: () => (canUseNamespaces() ? undefined : 'needs root for unshare -m and port 53'),
    alone: true,
    start: async () => {
      const server = await (dns ??= startSilentDns());
      return { url: 'http://cmdb-api:8080/records', wrap: (argv) => server.inNamespace(server.resolv.pod, argv) };
    },
    exit: 5,
    says: /cmdb-api.*no answer before the deadline/,
  },
  { name: 'slow headers (a line every 50 ms)', start: serve(behaviours.slowHeaders(), '/records'), exit: 5, says: /no answer before the deadline/ },
  { name: 'endless body, 200', start: serve(behaviours.endlessBody('200 OK'), '/records'), exit: 4, atOnce: true, says: /answered 200 OK with a body over 1 MiB/ },
  { name: 'endless body, 503', start: serve(behaviours.endlessBody('503 Service Unavailable'), '/records'), exit: 5, says: /answered 503 Service Unavailable: / },
  { name: 'a 200 whose body trickles (a byte every 100 ms)', start: serve(behaviours.endlessBody('200 OK', 'trickle'), '/records'), exit: 5, says: /no answer before the deadline/ },
  // The reset cuts a body of announced length: got reports it as the length mismatch it is.
  { name: 'connection reset mid-answer', start: serve(behaviours.resetMidAnswer(), '/records'), exit: 5, says: /ERR_HTTP_CONTENT_LENGTH_MISMATCH|ECONNRESET/ },
  { name: '503 every time', start: serve(behaviours.status(503), '/records'), exit: 5, says: /answered 503 Refused for Bearer \*\*\*/ },
  { name: `429, Retry-After: ${FOREVER}`, start: serve(behaviours.status(429, { 'retry-after': FOREVER }), '/records'), exit: 5, atOnce: true, says: /would pass the 10s deadline; last: .* answered 429/ },
  {
    name: '429, Retry-After as an HTTP-date in the year 9999',
    start: serve(behaviours.status(429, { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' }), '/records'),
    exit: 5,
    atOnce: true,
    says: /would pass the 10s deadline; last: .* answered 429/,
  },
  // README "Retries": redirects are not followed; a 3xx is a refusal like any status that is not retried.
  { name: 'redirect loop (302 to itself)', start: serve(behaviours.redirectLoop(), '/records'), exit: 4, atOnce: true, says: /answered 302 Found/ },
  { name: 'self-signed certificate, no --cmdb-ca-file', start: serve(behaviours.status(201), '/records', badServer.selfSigned), exit: 4, atOnce: true, says: /TLS failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/ },
  {
    name: 'a certificate for another host name',
    start: async () => ({ ...(await serve(behaviours.status(201), '/records', badServer.wrongName)()), args: ['--cmdb-ca-file', certs.caFile] }),
    exit: 4,
    atOnce: true,
    says: /TLS failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
  },
  {
    name: 'a garbage client certificate',
    start: async () => ({ ...(await serve(behaviours.status(201), '/records', { key: certs.serverKey, cert: certs.serverCert })()), args: mtls(file('garbage.crt', 'garbage\n'), certs.clientKeyFile) }),
    exit: 2,
    says: /^cmdb-hook \w+: --cmdb-cert-file \(CMDB_HOOK_CMDB_CERT_FILE\) .*garbage\.crt holds no PEM certificate/,
  },
  {
    name: 'a client key of another certificate',
    start: async () => ({ ...(await serve(behaviours.status(201), '/records', { key: certs.serverKey, cert: certs.serverCert })()), args: mtls(certs.clientCertFile, join(certs.dir, 'server.key')) }),
    exit: 2,
    says: /^cmdb-hook \w+: --cmdb-key-file \(CMDB_HOOK_CMDB_KEY_FILE\) .*server\.key is not the private key of the certificate in --cmdb-cert-file/,
  },
  { name: 'garbage bytes (not HTTP)', start: serve(behaviours.garbage(), '/records'), exit: 5, says: /HPE_/ },
];

const NOT_READY = /the app was not ready at .* within 3s/;
const READINESS_FAULTS: Fault[] = [
  { name: 'connection refused', start: async () => ({ url: `${await refusedOrigin()}/healthz` }), exit: 3, says: NOT_READY },
  { name: 'blackhole', start: serve(behaviours.blackhole(), '/healthz'), exit: 3, says: NOT_READY },
  { name: 'slow headers', start: serve(behaviours.slowHeaders(), '/healthz'), exit: 3, says: NOT_READY },
  { name: 'endless body, a byte every 100 ms', start: serve(behaviours.endlessBody('200 OK', 'trickle'), '/healthz'), exit: 3, says: NOT_READY },
  // README "Readiness": the body is read up to 10 KiB and a longer one is fine, so this app is ready.
  { name: 'endless body, as fast as read', start: serve(behaviours.endlessBody('200 OK'), '/healthz'), exit: 0, atOnce: true, says: /registered as .* \(201 Created\)/ },
  { name: 'connection reset mid-answer', start: serve(behaviours.resetMidAnswer(), '/healthz'), exit: 3, says: NOT_READY },
  { name: '503 for ever', start: serve(behaviours.status(503), '/healthz'), exit: 3, says: NOT_READY },
  {
    name: 'redirect loop',
    start: serve(behaviours.redirectLoop(), '/healthz'),
    exit: 3,
    // A check here is 10 requests: on a loaded machine the deadline may cut the only one, so only "not ready" is
    // certain. The count itself: readiness-kubelet-rules.test.ts, "a redirect loop".
    says: NOT_READY,
    // Up to 10 requests per check, a check every 30 ms: without V8's lite mode (the bundle) the optimized code and
    // feedback of that loop take the peak ~20 to 25 MiB over a plain run within 3 s; the executable (lite mode) stays
    // ~6 MiB over it (test/PROMISES.md, known gap).
    memoryUnbounded: 'peak RSS grows with the length of the wait',
  },
  { name: 'a Location that does not parse', start: serve(behaviours.badLocation(), '/healthz'), exit: 3, says: /failed to parse Location header/ },
  { name: 'huge headers (256 KiB)', start: serve(behaviours.hugeHeaders(), '/healthz'), exit: 3, says: /response headers larger than 64 KiB/ },
  { name: 'garbage bytes (not HTTP)', start: serve(behaviours.garbage(), '/healthz'), exit: 3, says: NOT_READY },
];

let budgetMiB = 0;
let rows = 0;
let nextStartAt = 0;

/** Waits until START_SPACING_MS after the previous row's start. */
async function startSlot(): Promise<void> {
  const now = performance.now();
  const at = Math.max(now, nextStartAt);
  nextStartAt = at + START_SPACING_MS;
  await sleep(at - now);
}
const started = performance.now();

/** One run of the hook against a target, memory watched, logging at trace level to a file of its own. */
async function runRow(target: Target, args: string[], timeoutMs: number, t?: TestContext): Promise<{ run: HookRun; logFile: string }> {
  const logFile = join(dir, `row-${++rows}.log`);
  writeFileSync(logFile, '');
  await startSlot();
  const argv = [...hookCommand(), ...args, '--timeout', `${timeoutMs}ms`, '--cmdb-token-file', tokenFile, '--log-file', logFile, '--log-level', 'trace', ...(target.args ?? [])];
  const run = await runProcess(target.wrap ? target.wrap(argv) : argv, { env: downwardEnv(), watchMemory: true, killAfterMs: 30_000 });
  t?.diagnostic(`${t.name}: exit ${run.code} in ${Math.round(run.durationMs)}ms, peak RSS ${run.peakRssMiB.toFixed(1)} MiB: ${run.summary}`);
  return { run, logFile };
}

const CUT_AT_ONCE = /failed 1 time\(s\) in [\d.]+s, until the \d+s deadline passed; last: .*no answer before the deadline|\(1 checks, last: deadline reached\)/;
const timeoutOf = (fault: Fault) => (fault.atOnce ? AT_ONCE_TIMEOUT_MS : TIMEOUT_MS);

/** What every row promises, whatever the fault. */
function assertPromises(fault: Fault, strict: boolean, run: HookRun, logFile: string): void {
  const expected = fault.exit === 2 || strict ? fault.exit : 0;
  assert.equal(run.code, expected, run.stderr);
  // The deadline counts from the process start: on a loaded machine the start can take most of it, and the deadline
  // then cuts the first attempt or check before the fault shows. The promises (code, time) still hold and are checked.
  if (!fault.says.test(run.stderr)) {
    assert.match(run.summary, CUT_AT_ONCE, `stderr shows neither ${String(fault.says)} nor a first try cut by the deadline:\n${run.stderr}`);
    process.stderr.write(`# ${fault.name}: the deadline cut the first try before the fault showed: ${run.summary}\n`);
  }
  if (fault.exit === 2) assert.equal(run.stderr.trim().split('\n').length, 1, 'a config error is one plain line');
  else if (fault.exit !== 0) assert.match(run.summary, strict ? new RegExp(`; exit ${fault.exit}$`) : new RegExp(`; exit 0 \\(fail-open; --strict exits ${fault.exit}\\)$`));
  const latest = timeoutOf(fault) + GRACE_MS;
  assert.ok(run.durationMs <= latest, `ended ${Math.round(run.durationMs)}ms after spawn; the promise is ${latest}ms`);
  if (!fault.memoryUnbounded) assert.ok(run.peakRssMiB > 0 && run.peakRssMiB <= budgetMiB, `peak RSS ${run.peakRssMiB.toFixed(1)} MiB, over ${budgetMiB.toFixed(1)}`);
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['--log-file', readFileSync(logFile, 'utf8')]] as const) {
    assert.deepEqual(leakedPieces(TOKEN, text), [], `the token leaked into ${where}`);
  }
}

before(async () => {
  // The budget: a plain register (ready app, answering CMDB) and a plain deregister of the same binary, with the same
  // flags, plus the margin. The bench's own budget (1.3x `node -e 0`) is missed by the plain run itself (README
  // "Performance"), so it cannot bound a fault row; this keeps every row at what a plain run costs.
  const cmdb = await startSandboxCmdb({ token: TOKEN });
  const app = await startPeer(behaviours.status(200));
  try {
    const peaks: number[] = [];
    for (const args of [['register', '--ready-url', `${app.origin}/healthz`], ['deregister']]) {
      const { run } = await runRow({ url: cmdb.url }, [args[0]!, ...baseFlags(cmdb.url, podinfo), ...args.slice(1)], AT_ONCE_TIMEOUT_MS);
      assert.equal(run.code, 0, run.stderr);
      peaks.push(run.peakRssMiB);
    }
    budgetMiB = Math.max(...peaks) + MEMORY_MARGIN_MIB;
    process.stderr.write(`# plain runs peak at ${peaks.map((peak) => peak.toFixed(1)).join(' and ')} MiB\n`);
  } finally {
    await Promise.all([cmdb.close(), app.close()]);
  }
});

after(async () => {
  (await dns)?.close();
  process.stderr.write(`# fault matrix: ${rows} runs in ${Math.round((performance.now() - started) / 1000)}s, memory budget ${budgetMiB.toFixed(1)} MiB\n`);
});

function cmdbRows(faults: Fault[]): void {
  for (const fault of faults) {
    for (const command of ['register', 'deregister'] as const) {
      for (const strict of [false, true]) {
        it(`${fault.name}: ${command}${strict ? ' --strict' : ''} -> exit ${fault.exit === 2 || strict ? fault.exit : 0}`, async (t) => {
          const missing = fault.needs?.();
          if (missing) return t.skip(missing);
          const target = await fault.start();
          t.after(() => target.peer?.close());
          const { run, logFile } = await runRow(target, [command, ...baseFlags(target.url, podinfo), ...(strict ? ['--strict'] : [])], timeoutOf(fault), t);
          assertPromises(fault, strict, run, logFile);
          if (fault.exit === 2) assert.equal(target.peer?.connections(), 0, 'nothing was sent');
          else if (fault.atOnce) assert.equal(target.peer?.connections(), 1, 'one attempt, not retried');
          else if (target.peer) assert.ok(target.peer.connections() > 0, 'the run reached the fault');
        });
      }
    }
  }
}

describe('CMDB faults: register and deregister, with and without --strict', { concurrency: CONCURRENCY }, () => cmdbRows(CMDB_FAULTS.filter((fault) => !fault.alone)));
describe('CMDB faults, one row at a time', { concurrency: 1 }, () => cmdbRows(CMDB_FAULTS.filter((fault) => fault.alone)));

describe('readiness faults: register with a healthy CMDB, with and without --strict', { concurrency: CONCURRENCY }, () => {
  for (const fault of READINESS_FAULTS) {
    for (const strict of [false, true]) {
      it(`${fault.name}: register${strict ? ' --strict' : ''} -> exit ${strict ? fault.exit : 0}`, async (t) => {
        const cmdb = await startSandboxCmdb({ token: TOKEN });
        const target = await fault.start();
        t.after(() => Promise.all([cmdb.close(), target.peer?.close()]));
        const { run, logFile } = await runRow(target, ['register', ...baseFlags(cmdb.url, podinfo), '--ready-url', target.url, ...(strict ? ['--strict'] : [])], timeoutOf(fault), t);
        if (fault.memoryUnbounded) t.diagnostic(`memory not held to the budget: ${fault.memoryUnbounded}`);
        assertPromises(fault, strict, run, logFile);
        assert.equal(cmdb.records.size, fault.exit === 0 ? 1 : 0, fault.exit === 0 ? 'registered once ready' : 'nothing registered');
        assert.deepEqual(leakedPieces(TOKEN, target.peer?.received() ?? ''), [], 'the CMDB token never goes to the app');
      });
    }
  }
});
