// A DNS server that never answers: the run still ends within --timeout + 1 s with its exit code (README "Name
// resolution"), though Node's own exit would wait for the stuck getaddrinfo (10 s for a 3 s run; 20 s for a 10 s run
// with a pod's search list). Each run gets a private mount namespace whose resolv.conf names that server
// (test/support/silent-dns.ts).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { baseFlags, downwardEnv, hookCommand, podinfoDir, runProcess, type HookRun } from '../support/run-hook.ts';
import { startDemoApp } from '../support/demo-app.ts';
import { startSandboxCmdb } from '../support/sandbox-cmdb.ts';
import { canUseNamespaces, HOSTS_NAMES, startSilentDns, type SilentDns } from '../support/silent-dns.ts';

async function silentDns(t: TestContext): Promise<SilentDns> {
  const dns = await startSilentDns();
  t.after(() => dns.close());
  return dns;
}

/** The hook, exec'd as the kubelet does, inside a mount namespace with the silent nameserver and our hosts. */
function runWithResolver(dns: SilentDns, resolv: string, args: string[], env: Record<string, string>): Promise<HookRun> {
  return runProcess(dns.inNamespace(resolv, [...hookCommand(), ...args]), { env, killAfterMs: 40_000 });
}

for (const [variant, kind, host] of [['one nameserver', 'plain', 'cmdb.cmdb-hook.test'], ['a pod\'s search list and ndots:5', 'pod', 'cmdb-api']] as const) {
  test(`a nameserver that never answers (${variant}): register and deregister end within --timeout + 1s, exit 0, 5 with --strict`, async (t) => {
    if (!canUseNamespaces()) return t.skip('needs root for unshare -m and port 53');
    const dns = await silentDns(t);
    const podinfo = podinfoDir({ labels: 'app="shop"' });
    const flags = baseFlags(`http://${host}:8080/records`, podinfo);
    for (const command of ['register', 'deregister'] as const) {
      for (const strict of [false, true]) {
        const run = await runWithResolver(dns, dns.resolv[kind], [command, ...flags, '--timeout', '2s', ...(strict ? ['--strict'] : [])], downwardEnv());
        const what = `${command}${strict ? ' --strict' : ''}`;
        t.diagnostic(`${what}: ${Math.round(run.durationMs)}ms`);
        assert.ok(run.durationMs <= 3000, `${what} ended after ${Math.round(run.durationMs)}ms`);
        assert.equal(run.code, strict ? 5 : 0, `${what}: ${run.stderr}`);
        assert.match(run.summary, new RegExp(`FAILED: .*${host}.*no answer before the deadline`), what);
      }
    }
    assert.ok(dns.queries() > 0, 'the lookups reached the silent nameserver');
  });
}

test('with that nameserver, names of /etc/hosts (localhost, IPv4, IPv6) still resolve at once, as before', async (t) => {
  if (!canUseNamespaces()) return t.skip('needs root for unshare -m and port 53');
  const dns = await silentDns(t);
  const [v4, v6] = await Promise.all([startSandboxCmdb(), startSandboxCmdb({ host: '::1' })]);
  t.after(() => Promise.all([v4.close(), v6.close()]));
  const podinfo = podinfoDir({ labels: 'app="shop"' });
  const port = (cmdb: { url: string }) => new URL(cmdb.url).port;
  const cases = [
    ['localhost', v4, `http://localhost:${port(v4)}/records`],
    ['an IPv4 name', v4, `http://${HOSTS_NAMES.v4}:${port(v4)}/records`],
    ['an IPv6 name', v6, `http://${HOSTS_NAMES.v6}:${port(v6)}/records`],
  ] as const;
  for (const [what, cmdb, url] of cases) {
    const env = downwardEnv();
    const run = await runWithResolver(dns, dns.resolv.pod, ['register', ...baseFlags(url, podinfo), '--timeout', '10s', '--strict'], env);
    assert.equal(run.code, 0, `${what}: ${run.stderr}`);
    assert.ok(cmdb.records.has(`${env.POD_UID}_app`), `${what}: registered`);
    assert.ok(run.durationMs < 5000, `${what}: took ${Math.round(run.durationMs)}ms`);
  }
});

// README "Performance": register rehearses its request over an in-memory connection while the app starts; nothing of
// it may leave the process, not even a name lookup (the rehearsal's URL has a host name).
test('register with addresses only: not one DNS query, rehearsal included', async (t) => {
  if (!canUseNamespaces()) return t.skip('needs root for unshare -m and port 53');
  const dns = await silentDns(t);
  const [cmdb, app] = await Promise.all([startSandboxCmdb(), startDemoApp({ readyAfterMs: 500 })]);
  t.after(() => Promise.all([cmdb.close(), app.close()]));
  const env = downwardEnv();
  const run = await runWithResolver(dns, dns.resolv.pod, ['register', ...baseFlags(cmdb.url, podinfoDir({ labels: 'app="shop"' })), '--ready-url', app.readyUrl, '--strict'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(cmdb.records.has(`${env.POD_UID}_app`));
  assert.equal(dns.queries(), 0);
});
