// A DNS server that never answers: the run still ends within --timeout + 1 s with its exit code (README "Name
// resolution"). Node's exit used to wait for the stuck getaddrinfo (10 s for a 3 s run; 20 s for a 10 s run with a
// pod's search list). Each run gets a private mount namespace (we are root, as CI is) whose /etc/resolv.conf names a
// nameserver on a loopback address where this test holds port 53 and never answers; /etc/hosts is ours there too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { baseFlags, downwardEnv, hookCommand, podinfoDir, runProcess, type HookRun } from '../support/run-hook.ts';
import { startSandboxCmdb } from '../support/sandbox-cmdb.ts';

const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-dns-'));
// A loopback address of its own, so that nothing else on the machine holds its port 53.
const NAMESERVER = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
const RESOLV = {
  plain: file('resolv-plain.conf', `nameserver ${NAMESERVER}\n`),
  // What the kubelet writes for a pod with dnsPolicy ClusterFirst in namespace a.
  pod: file('resolv-pod.conf', `nameserver ${NAMESERVER}\nsearch a.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`),
};
const HOSTS = file('hosts', '127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.0.1 cmdb-v4.hosts.test\n::1 cmdb-v6.hosts.test\n');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

let namespaces: boolean | undefined;
function canUseNamespaces(): boolean {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return (namespaces ??= true);
  } catch {
    return (namespaces ??= false);
  }
}

/** Holds UDP and TCP port 53 of NAMESERVER: queries arrive, and nothing ever answers them. */
async function silentNameserver(t: TestContext): Promise<{ queries: () => number }> {
  let queries = 0;
  const udp = createSocket('udp4').on('message', () => queries++);
  const held: Socket[] = [];
  const tcp = createServer((socket) => {
    queries++;
    held.push(socket.on('error', () => undefined));
  });
  await Promise.all([new Promise<void>((resolve) => udp.bind(53, NAMESERVER, resolve)), new Promise<void>((resolve) => tcp.listen(53, NAMESERVER, resolve))]);
  t.after(() => {
    udp.close();
    for (const socket of held) socket.destroy();
    tcp.close();
  });
  return { queries: () => queries };
}

/** The hook, exec'd as the kubelet does, inside a mount namespace with our resolv.conf and hosts. */
function runWithResolver(resolv: string, args: string[], env: Record<string, string>): Promise<HookRun> {
  const mount = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"';
  return runProcess(['unshare', '-m', 'sh', '-c', mount, 'sh', resolv, HOSTS, ...hookCommand(), ...args], { env, killAfterMs: 40_000 });
}

for (const [variant, resolv, host] of [['one nameserver', RESOLV.plain, 'cmdb.cmdb-hook.test'], ['a pod\'s search list and ndots:5', RESOLV.pod, 'cmdb-api']] as const) {
  test(`a nameserver that never answers (${variant}): register and deregister end within --timeout + 1s, exit 0, 5 with --strict`, async (t) => {
    if (!canUseNamespaces()) return t.skip('needs root for unshare -m and port 53');
    const nameserver = await silentNameserver(t);
    const podinfo = podinfoDir({ labels: 'app="shop"' });
    const flags = baseFlags(`http://${host}:8080/records`, podinfo);
    for (const command of ['register', 'deregister'] as const) {
      for (const strict of [false, true]) {
        const run = await runWithResolver(resolv, [command, ...flags, '--timeout', '2s', ...(strict ? ['--strict'] : [])], downwardEnv());
        const what = `${command}${strict ? ' --strict' : ''}`;
        t.diagnostic(`${what}: ${Math.round(run.durationMs)}ms`);
        assert.ok(run.durationMs <= 3000, `${what} ended after ${Math.round(run.durationMs)}ms`);
        assert.equal(run.code, strict ? 5 : 0, `${what}: ${run.stderr}`);
        assert.match(run.summary, new RegExp(`FAILED: .*${host}.*no answer before the deadline`), what);
      }
    }
    assert.ok(nameserver.queries() > 0, 'the lookups reached the silent nameserver');
  });
}

test('with that nameserver, names of /etc/hosts (localhost, IPv4, IPv6) still resolve at once, as before', async (t) => {
  if (!canUseNamespaces()) return t.skip('needs root for unshare -m and port 53');
  await silentNameserver(t);
  const [v4, v6] = await Promise.all([startSandboxCmdb(), startSandboxCmdb({ host: '::1' })]);
  t.after(() => Promise.all([v4.close(), v6.close()]));
  const podinfo = podinfoDir({ labels: 'app="shop"' });
  const port = (cmdb: { url: string }) => new URL(cmdb.url).port;
  const cases = [
    ['localhost', v4, `http://localhost:${port(v4)}/records`],
    ['an IPv4 name', v4, `http://cmdb-v4.hosts.test:${port(v4)}/records`],
    ['an IPv6 name', v6, `http://cmdb-v6.hosts.test:${port(v6)}/records`],
  ] as const;
  for (const [what, cmdb, url] of cases) {
    const env = downwardEnv();
    const run = await runWithResolver(RESOLV.pod, ['register', ...baseFlags(url, podinfo), '--timeout', '10s', '--strict'], env);
    assert.equal(run.code, 0, `${what}: ${run.stderr}`);
    assert.ok(cmdb.records.has(`${env.POD_UID}_app`), `${what}: registered`);
    assert.ok(run.durationMs < 5000, `${what}: took ${Math.round(run.durationMs)}ms`);
  }
});
