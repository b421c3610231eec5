// Scenario 6 of the controller: two replicas, one Lease. Only the leader writes; the follower watches and lists but
// sends nothing to the CMDB. The leader is killed (SIGKILL: no release of the Lease), the other takes over once the
// Lease has expired, and does the work that came up meanwhile. No action runs twice: each record is written once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

const LEASE_MS = 2000;
const LEASE = ['--leader-elect-lease-duration', '2s', '--leader-elect-renew-deadline', '1500ms', '--leader-elect-retry-period', '500ms', '--orphan-grace', '1s'];

const leads = (replica: ControllerProcess) => replica.logs().some((line) => line.msg === 'leading: this replica writes');
/** The record ids a replica says it wrote, with the action. */
const wrote = (replica: ControllerProcess) => replica.logs().filter((line) => typeof line.action === 'string' && typeof line.id === 'string' && /^record .* (created|updated|deleted|retired)/.test(String(line.msg))).map((line) => `${String(line.action)} ${String(line.id)}`);
const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });

test('two replicas: only the leader writes; killed, the other takes over within the lease and does what is pending, once', async (t) => {
  for (const name of ['web-a', 'web-b', 'web-c', 'web-d']) scene.api.addPod(selected(name));
  const replicas = [scene.start(LEASE, { POD_NAME: 'controller-one' }), scene.start(LEASE, { POD_NAME: 'controller-two' })];
  for (const replica of replicas) assert.ok(await untilReady(replica), replica.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 4, 10_000), 'the four pods registered');
  const [leader, follower] = leads(replicas[0] as ControllerProcess) ? replicas : [...replicas].reverse();
  assert.ok(leader && follower && leads(leader) && !leads(follower), 'exactly one replica leads');
  const holder = (scene.api.lease('cmdb-hook', 'cmdb-hook-controller')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  assert.equal(holder, leader === replicas[0] ? 'controller-one' : 'controller-two');
  // Its log lines follow the writes (another pipe): wait for them.
  assert.ok(await waitFor(() => wrote(leader).length === 4, 5000), leader.stderr());
  assert.deepEqual(wrote(follower), [], 'the follower wrote nothing');
  assert.match((await follower.get('/metrics')).body, /^cmdb_hook_controller_leader 0$/m);
  assert.match((await leader.get('/metrics')).body, /^cmdb_hook_controller_leader 1$/m);

  // The leader dies without a word; what happens next is pending work for whoever leads next.
  leader.child.kill('SIGKILL');
  await leader.exited;
  const killedAt = performance.now();
  const gone = scene.api.pod('shop', 'web-b');
  scene.api.deletePod('shop', 'web-b', 0);
  for (const name of ['web-e', 'web-f']) scene.api.addPod(selected(name));

  assert.ok(await waitFor(() => leads(follower), LEASE_MS + 5000), follower.stderr());
  const takeover = performance.now() - killedAt;
  // The follower judges expiry by its own clock, from when it last saw the Lease change: that sight may come up to
  // one retry period after the leader's last renewal, and the look that finds it expired up to one more; each retry
  // period is jittered as client-go's (period x (1 + 1.2 x random)). So the lease duration + 2 x 2.2 x 500 ms, and a
  // second for a busy machine.
  const within = LEASE_MS + 2 * 2.2 * 500 + 1000;
  assert.ok(takeover <= within, `took over in ${Math.round(takeover)} ms, more than ${within}`);
  t.diagnostic(`took over ${Math.round(takeover)} ms after the leader was killed (lease 2s, retry period 500ms)`);
  const goneUid = (gone?.metadata as { uid: string }).uid;
  assert.ok(await waitFor(() => scene.cmdb.records.size === 5 && ![...scene.cmdb.records.values()].some((record) => record.pod.uid === goneUid), 10_000), JSON.stringify([...scene.cmdb.records.values()].map((record) => record.pod.name)));
  assert.ok(await waitFor(() => wrote(follower).length === 3, 5000), follower.stderr());
  assert.deepEqual(wrote(follower).map((line) => line.split(' ')[0]).sort(), ['create', 'create', 'retire']);

  // Once each: every PUT and DELETE the sandbox saw names a different record, and the two logs together say the same.
  const paths = scene.cmdb.writes().map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(paths.length, 7, paths.join('\n'));
  assert.equal(new Set(paths).size, paths.length, paths.join('\n'));
  const logged = [...wrote(leader), ...wrote(follower)];
  assert.equal(new Set(logged).size, 7, logged.join('\n'));
  assert.equal((scene.api.lease('cmdb-hook', 'cmdb-hook-controller')?.spec as { holderIdentity?: string }).holderIdentity, leader === replicas[0] ? 'controller-two' : 'controller-one');
  assert.equal(await follower.stop(), 0);
});
