import net from 'node:net';
import { withCheckSignal } from './check-signal.ts';
import type { Probe, ProbeResult } from './probe.ts';

/**
 * The kubelet's tcpSocket probe: a connect within the timeout, then close. Tries each host in turn, ready if one
 * accepts; one timeout covers the whole check, as --ready-timeout promises.
 */
export function createTcpProbe(hosts: string[], port: number): Probe {
  return {
    target: `tcp ${hosts.map((host) => (host.includes(':') ? `[${host}]` : host)).join(' or ')} port ${port}`,
    check(budget) {
      const { timeoutMs } = budget;
      return withCheckSignal(budget, async (signal) => {
        const details: string[] = [];
        for (const host of hosts) {
          const result = await connect(host, port, signal, timeoutMs);
          if (result.ready) return result;
          details.push(`${host}: ${result.detail}`);
        }
        return { ready: false, detail: details.join(', ') };
      });
    },
  };
}

function connect(host: string, port: number, signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ready: true, detail: 'connected' });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ready: false, detail: error.name === 'AbortError' ? `no answer within ${timeoutMs}ms` : (error.code ?? error.message) });
    });
  });
}
