// The image-volume variant (manifests/variants/image-volume), run by the kubelet-faithful harness against the sandbox
// CMDB: the app image carries no agent; the cmdb-hook image is mounted as an image volume, which shows the image's
// root (the agent at opt/cmdb-hook inside it), read-only, not noexec (test/support/kubelet/image-volume.ts).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { render } from '../support/kubelet/render.ts';
import { app, cluster, historyOf, imageFolders, recordOf } from '../support/kubelet/scenario.ts';

const { withAgent, bare } = await imageFolders();
// The app image lacks the agent. The bundled agent still needs Node 26 on its PATH; the single executable
// (CMDB_HOOK_TEST_BIN) needs nothing from the image, so then the image has no Node either.
const images = { 'shop/web:1.4.2': { root: bare, node: !process.env.CMDB_HOOK_TEST_BIN }, 'cmdb-hook:0.1.0': { root: withAgent, node: true } };
const executable = join(withAgent, 'opt', 'cmdb-hook', 'cmdb-hook');

test('7. image-volume variant: both hooks run the executable in the mounted image; nothing is copied or written into it', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-7c4d9b8f6-imgvl', objects: render('variants/image-volume'), entrypoint: app('500ms') });
  await replica.start();
  assert.equal(replica.events.find((event) => event.type === 'postStart:started')?.detail, executable, 'postStart ran the image\'s own file');
  assert.equal(replica.at('init:started'), undefined, 'no init container ran');
  assert.equal(recordOf(cmdb, replica)?.state, 'ready', 'registered through the mounted image');
  await replica.terminate();
  assert.equal(replica.events.find((event) => event.type === 'preStop:started')?.detail, executable, 'preStop ran the image\'s own file');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'DELETE 204']);
  // Nothing copied: the pod's own folder (its volumes, logs, temp folders) holds no file of the agent.
  const podFiles = readdirSync(replica.folder, { recursive: true }).map(String);
  assert.deepEqual(podFiles.filter((file) => /cmdb-hook$|ld-linux|post-start/.test(file)), [], `the pod holds ${podFiles.join(', ')}`);
  assert.deepEqual(replica.imageVolumeChanges(), [], 'nothing was written into the read-only image volume');
});

test('7b. a runtime that ignores subPath on image volumes (containerd 2.1): the image\'s root shows at /opt/cmdb-hook, postStart cannot start the executable', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-7c4d9b8f6-ctd21', objects: render('variants/image-volume'), entrypoint: app('0s'), runtime: { subPath: false, noexec: false } });
  await replica.start();
  assert.equal(replica.events.find((event) => event.type === 'postStart:started')?.detail, join(withAgent, 'cmdb-hook'), 'the mount shows the image root');
  assert.match(replica.events.find((event) => event.type === 'FailedPostStartHook')?.detail ?? '', /ENOENT/, 'the kubelet kills the container: CrashLoopBackOff, loud');
  assert.equal(cmdb.records.size, 0);
});
