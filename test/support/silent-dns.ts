/**
 * A DNS server that never answers, and a way to run a command that uses it: a private mount namespace (root, as CI
 * is: `unshare -m`) whose /etc/resolv.conf names a nameserver on a loopback address where this server holds port 53
 * and never answers; /etc/hosts is ours there too. Nothing outside the command's namespace sees either file.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SilentDns {
  /** resolv.conf files naming the silent nameserver: alone, or with what the kubelet writes for a pod. */
  resolv: { plain: string; pod: string };
  /** How many queries arrived (UDP datagrams and TCP connections). */
  queries(): number;
  /** argv that runs `argv` with `resolv` as /etc/resolv.conf and our hosts file as /etc/hosts. */
  inNamespace(resolv: string, argv: string[]): string[];
  close(): void;
}

/** Names /etc/hosts resolves in the namespace, besides localhost. */
export const HOSTS_NAMES = { v4: 'cmdb-v4.hosts.test', v6: 'cmdb-v6.hosts.test' } as const;

let namespaces: boolean | undefined;

/** Whether this process may make mount namespaces and bind port 53 (it is root). */
export function canUseNamespaces(): boolean {
  if (namespaces === undefined) {
    try {
      execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
      namespaces = true;
    } catch {
      namespaces = false;
    }
  }
  return namespaces;
}

/** Holds UDP and TCP port 53 of a loopback address of its own (so nothing else holds that port): queries arrive, none is answered. */
export async function startSilentDns(): Promise<SilentDns> {
  const address = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-dns-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const resolv = {
    plain: file('resolv-plain.conf', `nameserver ${address}\n`),
    // What the kubelet writes for a pod with dnsPolicy ClusterFirst in namespace a.
    pod: file('resolv-pod.conf', `nameserver ${address}\nsearch a.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`),
  };
  const hosts = file('hosts', `127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.0.1 ${HOSTS_NAMES.v4}\n::1 ${HOSTS_NAMES.v6}\n`);

  let queries = 0;
  const udp = createSocket('udp4').on('message', () => queries++);
  const held: Socket[] = [];
  const tcp = createServer((socket) => {
    queries++;
    held.push(socket.on('error', () => undefined));
  });
  await Promise.all([new Promise<void>((resolve) => udp.bind(53, address, resolve)), new Promise<void>((resolve) => tcp.listen(53, address, resolve))]);
  const mount = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"';
  return {
    resolv,
    queries: () => queries,
    inNamespace: (conf, argv) => ['unshare', '-m', 'sh', '-c', mount, 'sh', conf, hosts, ...argv],
    close() {
      udp.close();
      for (const socket of held) socket.destroy();
      tcp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
