import net from 'node:net';
import { timerMs } from '../duration.ts';
import type { Probe, ProbeResult } from './probe.ts';

/** The kubelet's tcpSocket probe: a connect within the timeout, then close. Tries each host, ready if one accepts. */
export function createTcpProbe(hosts: string[], port: number): Probe {
  return {
    target: `tcp ${hosts.map((host) => (host.includes(':') ? `[${host}]` : host)).join(' or ')} port ${port}`,
    async check(signal, timeoutMs) {
      const details: string[] = [];
      for (const host of hosts) {
        const result = await connect(host, port, AbortSignal.any([signal, AbortSignal.timeout(timerMs(timeoutMs))]), timeoutMs);
        if (result.ready) return result;
        details.push(`${host}: ${result.detail}`);
      }
      return { ready: false, detail: details.join(', ') };
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
