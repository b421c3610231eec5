/**
 * `cmdb-hook sidecar`: a native sidecar (an init container with restartPolicy Always) that keeps the app container's
 * record. It registers once the app is ready, so GET /readyz (the sidecar's readinessProbe, which counts toward the
 * pod's Ready) turns 200 only once the CMDB knows the pod; GET /deregister (the app container's httpGet preStop, sent
 * by the kubelet) deregisters, so the app container runs no process of ours; SIGTERM deregisters if that has not
 * happened yet, then the process exits 0. Restarted after a crash, it writes the same record id again: one upsert.
 */
import type { CmdbSetup } from '../cmdb/factory.ts';
import type { SidecarConfig } from '../config/sidecar-config.ts';
import { openHook } from '../hooks/open-hook.ts';
import { buildRecord } from '../pod/record.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import { formatCidr } from '../settings/cidr.ts';
import { startEndpoints, type Answer } from '../serve/http-endpoints.ts';
import type { IncomingMessage } from 'node:http';
import { createRecordKeeper, type RecordKeeper } from './record-keeper.ts';
import { createSourceCheck, type SourceCheck } from './trusted-sources.ts';

export async function runSidecar(config: SidecarConfig, cmdb: CmdbSetup, context: RunContext): Promise<Outcome> {
  const { log } = context;
  const hook = openHook(config.hook, cmdb, context);
  // What this CMDB needs of the record (NetBox: a pod IP) is a usage error now, not a fail-open later.
  hook.backend.check?.(buildRecord(hook.pod, hook.config, 'ready'));
  const keeper = createRecordKeeper(hook, config, context);

  // Installed before anything waits: from here on a SIGTERM deregisters instead of killing the process, and a second
  // one (or a SIGINT after it) does not cut that deregister short: the first decides, the kubelet's SIGKILL ends it.
  const terminated = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => resolve(signal));
  });
  const endpoints = await startEndpoints({
    listen: config.listen,
    live: keeper.live,
    ready: keeper.ready,
    log,
    routes: { '/deregister': { GET: deregisterRoute(keeper, createSourceCheck(config.trusted), context) } },
  });
  const trusted = config.trusted.map(formatCidr);
  log.info({ listen: endpoints.address, trusted, heartbeatMs: config.heartbeatMs }, 'serving /healthz, /readyz and /deregister');
  if (config.trustedFrom === 'loopback only') {
    log.warn('HOST_IP is not set and no --trusted-source is given: only this pod itself may call /deregister, not the kubelet; set HOST_IP from fieldRef status.hostIP');
  }

  const running = keeper.run().catch((error: unknown) => log.error({ err: error }, 'the record keeper stopped'));
  const signal = await terminated;
  log.info({ signal }, `${signal}: deregistering unless that is done already, then exiting`);
  const done = await keeper.deregister(signal);
  await running;
  await endpoints.close();
  return { summary: done.summary };
}

/** GET /deregister: only from a trusted source; answers once the record is gone (the kubelet ignores the status). */
function deregisterRoute(keeper: RecordKeeper, check: SourceCheck, context: RunContext) {
  return async (request: IncomingMessage): Promise<Answer> => {
    const { trusted, source } = check(request.socket.remoteAddress);
    if (!trusted) {
      context.log.warn({ source }, `GET /deregister refused: ${source} is not a trusted source (see --trusted-source)`);
      return { status: 403, body: 'forbidden\n' };
    }
    const done = await keeper.deregister(`GET /deregister from ${source}`);
    return done.ok ? { status: 200, body: 'deregistered\n' } : { status: 503, body: 'not deregistered; see the sidecar\'s log\n' };
  };
}
