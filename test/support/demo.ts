/**
 * `npm run demo`: the main job, shown to a newcomer in a few seconds, on loopback only.
 * Starts the sandbox CMDB and a demo app that turns ready after 2 s, runs `cmdb-hook register` as the kubelet would
 * (Downward API env, no shell), shows that the CMDB stays empty until the app is ready, prints the record, runs
 * `cmdb-hook deregister`, shows the record gone, and cleans up.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startDemoApp } from './demo-app.ts';
import { baseFlags, downwardEnv, podinfoDir, runHook } from './run-hook.ts';
import { startSandboxCmdb } from './sandbox-cmdb.ts';

const t0 = performance.now();
const clock = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(4)}s]`;
const say = (text: string) => console.log(`${clock()} ${text}`);

const cmdb = await startSandboxCmdb();
const app = await startDemoApp({ readyAfterMs: 2000 });
const podinfo = podinfoDir({ labels: 'app.kubernetes.io/name="shop-web"\nteam="payments"', annotations: 'owner="Payments team \\u2014 on call: #pay-oncall"' });
const env = { ...downwardEnv({ name: 'shop-web-7d4b9c-x2x5q', uid: randomUUID() }), CMDB_HOOK_LOG_LEVEL: 'warn' };
const flags = baseFlags(cmdb.url, podinfo);

try {
  say(`sandbox CMDB at ${cmdb.url}`);
  say(`demo app at ${app.readyUrl} (answers 503 for 2s, then 200)`);
  say(`postStart: cmdb-hook register --ready-url ${app.readyUrl} --ready-interval 200ms ...`);
  const registering = runHook(['register', ...flags, '--ready-url', app.readyUrl, '--ready-interval', '200ms', '--field', 'owner=team payments, EU'], { env });
  let done = false;
  void registering.then(() => (done = true));
  while (!done) {
    say(`  app ${app.readyAt() === undefined ? 'not ready' : 'ready    '} | CMDB holds ${cmdb.records.size} record(s)`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const registered = await registering;
  say(`register exited ${registered.code}: ${registered.summary}`);
  const writesBeforeReady = cmdb.writes().filter((write) => write.at < (app.readyAt() ?? Infinity));
  say(`writes to the CMDB before the app was ready: ${writesBeforeReady.length}`);
  say('the record:');
  console.log(JSON.stringify([...cmdb.records.values()][0], null, 2));

  say('preStop: cmdb-hook deregister ...');
  const deregistered = await runHook(['deregister', ...flags], { env });
  say(`deregister exited ${deregistered.code}: ${deregistered.summary}`);
  say(`CMDB holds ${cmdb.records.size} record(s)`);
  if (registered.code !== 0 || deregistered.code !== 0 || cmdb.records.size !== 0 || writesBeforeReady.length !== 0) process.exitCode = 1;
} finally {
  await Promise.all([cmdb.close(), app.close()]);
  rmSync(podinfo, { recursive: true, force: true });
}
