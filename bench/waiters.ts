/**
 * What a user would put in the postStart hook instead of cmdb-hook, and cmdb-hook itself, as argv that wait for a
 * readiness URL and then PUT the record. The shell versions send the same record the agent would.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../', import.meta.url).pathname;
export const EXECUTABLE = '/opt/cmdb-hook/cmdb-hook';
export const NODE = process.execPath;
export const BUNDLE = join(ROOT, 'dist', 'cmdb-hook.cjs');
const WAIT_ON = join(ROOT, 'node_modules', '.bin', 'wait-on');

export interface Pod {
  uid: string;
  env: Record<string, string>;
  id: string;
}

export function pod(uid: string): Pod {
  return { uid, id: `${uid}_app`, env: { POD_UID: uid, POD_NAME: 'bench-0', POD_NAMESPACE: 'bench', POD_IP: '10.0.0.1' } };
}

/** The record protocol v1 expects, for the shell waiters' PUT. */
export function recordFile(dir: string, target: Pod): string {
  const file = join(dir, `${target.id}.json`);
  writeFileSync(file, JSON.stringify({
    id: target.id, cluster: 'bench', namespace: 'bench', pod: { name: 'bench-0', uid: target.uid, ip: '10.0.0.1', ips: ['10.0.0.1'] },
    container: 'app', node: { name: null, ip: null }, app: null, labels: {}, annotations: {}, fields: {}, state: 'ready',
    observedAt: new Date().toISOString(), agent: { name: 'shell', version: '0' },
  }));
  return file;
}

export type WaiterName = 'cmdb-hook (defaults)' | 'cmdb-hook, --no-lite-mode' | 'shell loop, sleep 1' | 'shell loop, sleep 0.1' | 'wait-on -i 100 + curl';
export const WAITERS: WaiterName[] = ['cmdb-hook (defaults)', 'cmdb-hook, --no-lite-mode', 'shell loop, sleep 1', 'shell loop, sleep 0.1', 'wait-on -i 100 + curl'];

export function waiter(name: WaiterName, readyUrl: string, cmdbUrl: string, target: Pod, dir: string): string[] {
  const put = `curl -s -o /dev/null -X PUT -H 'content-type: application/json' --data @${recordFile(dir, target)} ${cmdbUrl}/${target.id}`;
  switch (name) {
    case 'cmdb-hook (defaults)':
    case 'cmdb-hook, --no-lite-mode':
      return [EXECUTABLE, ...(name === 'cmdb-hook (defaults)' ? [] : ['--node-options=--no-lite-mode']), 'register', '--cmdb-url', cmdbUrl, '--cluster', 'bench', '--container', 'app', '--ready-url', readyUrl, '--podinfo-dir', '/nonexistent', '--log-level', 'warn'];
    case 'shell loop, sleep 1':
      return ['sh', '-c', `until curl -sf -o /dev/null ${readyUrl}; do sleep 1; done; ${put}`];
    case 'shell loop, sleep 0.1':
      return ['sh', '-c', `until curl -sf -o /dev/null ${readyUrl}; do sleep 0.1; done; ${put}`];
    case 'wait-on -i 100 + curl':
      return ['sh', '-c', `${NODE} ${WAIT_ON} -i 100 ${readyUrl.replace('http://', 'http-get://')} && ${put}`];
  }
}
