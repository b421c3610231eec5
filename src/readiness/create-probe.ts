import { createHttpProbe } from './http-probe.ts';
import type { Probe } from './probe.ts';
import { createTcpProbe } from './tcp-probe.ts';

/** What to check: --ready-url (an httpGet probe) or --ready-tcp (a tcpSocket probe). */
export type ReadinessTarget = { kind: 'http'; url: URL } | { kind: 'tcp'; hosts: string[]; port: number };

export function createProbe(target: ReadinessTarget): Probe {
  return target.kind === 'http' ? createHttpProbe(target.url) : createTcpProbe(target.hosts, target.port);
}
