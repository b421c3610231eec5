// What this proves about the variants in manifests/variants/ beyond the checks every directory passes
// (manifests.test.ts: render, schema, unknown fields, identity, podinfo, token, grace period):
//   4. inject: the init container installs the binary into an emptyDir that the app mounts at /opt/cmdb-hook (the
//      single executable's loader path is fixed there) and its hooks call;
//   5. image-volume: the cmdb-hook image itself is mounted read-only at /opt/cmdb-hook, its /opt/cmdb-hook folder
//      picked by subPath (an image volume shows the image's root), and the hooks call it; no init container, no
//      emptyDir;
//   6. sidecar: cmdb-hook runs as a native sidecar whose probes point at its own --listen port, the app container
//      runs nothing (its only hook is an httpGet preStop to the sidecar's /deregister), and HOST_IP reaches the
//      sidecar for its default --trusted-source.
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import { render } from '../support/kubelet/render.ts';
import { appContainer, flagValue, hookCommand, podTemplates, sidecarContainer, volumeMountedAt } from '../support/kubelet/template-queries.ts';

describe('manifests/variants/inject', () => {
  test('check 4: the init container installs into an emptyDir that the app mounts at /opt/cmdb-hook and its hooks call', () => {
    for (const { owner, template } of podTemplates(render('variants/inject'))) {
      const installers = template.spec?.initContainers?.filter((container) => container.command?.[1] === 'install') ?? [];
      assert.equal(installers.length, 1, `${owner}: expected one init container running \`cmdb-hook install <dir>\``);
      const installer = installers[0] as IContainer;
      const [program = '', , dir = '', ...rest] = installer.command ?? [];
      assert.equal(posix.basename(program), 'cmdb-hook', `${owner}: init container ${installer.name} does not run cmdb-hook`);
      assert.ok(dir.startsWith('/') && rest.length === 0, `${owner}: init container ${installer.name} must run \`cmdb-hook install <absolute dir>\``);

      const volume = volumeMountedAt(owner, template, installer, dir);
      assert.ok(volume.emptyDir, `${owner}: the volume ${volume.name} at ${dir} is not an emptyDir`);
      const app = appContainer(owner, template);
      const appMount = app.volumeMounts?.find((mount) => mount.name === volume.name);
      assert.ok(appMount, `${owner}: container app does not mount the volume ${volume.name}`);
      // The executable's ELF interpreter is /opt/cmdb-hook/lib/ld-linux-x86-64.so.2: the copy must appear there.
      assert.equal(appMount.mountPath, '/opt/cmdb-hook', `${owner}: container app mounts ${volume.name} at ${appMount.mountPath}, not at /opt/cmdb-hook`);
      assert.equal(appMount.readOnly, true, `${owner}: container app should mount ${volume.name} readOnly`);
      for (const hook of ['postStart', 'preStop'] as const) {
        const command = hookCommand(owner, app, hook);
        assert.equal(command[0], posix.join(appMount.mountPath, 'cmdb-hook'), `${owner}: the ${hook} command does not run the binary installed into ${volume.name}`);
      }
    }
  });
});

describe('manifests/variants/image-volume', () => {
  test('check 5: the cmdb-hook image is mounted read-only at /opt/cmdb-hook, its own folder picked by subPath; nothing is copied', () => {
    for (const { owner, template } of podTemplates(render('variants/image-volume'))) {
      const app = appContainer(owner, template);
      const volume = volumeMountedAt(owner, template, app, '/opt/cmdb-hook');
      assert.equal(volume.image?.reference, 'cmdb-hook:0.1.0', `${owner}: the volume at /opt/cmdb-hook is not an image volume of the cmdb-hook image`);
      const mount = app.volumeMounts?.find((candidate) => candidate.mountPath === '/opt/cmdb-hook');
      // The image's root holds only opt/: without the subPath the executable would sit at /opt/cmdb-hook/opt/cmdb-hook.
      assert.equal(mount?.subPath, 'opt/cmdb-hook', `${owner}: the image volume must be mounted with subPath opt/cmdb-hook`);
      assert.equal(mount?.readOnly, true, `${owner}: say readOnly: true (the runtime mounts image volumes read-only anyway)`);
      for (const hook of ['postStart', 'preStop'] as const) {
        assert.equal(hookCommand(owner, app, hook)[0], '/opt/cmdb-hook/cmdb-hook', `${owner}: the ${hook} command does not run the mounted image's executable`);
      }
      assert.deepEqual(template.spec?.initContainers ?? [], [], `${owner}: no init container is needed to copy anything`);
      assert.ok(!template.spec?.volumes?.some((candidate) => candidate.emptyDir), `${owner}: no emptyDir is needed`);
    }
  });
});

/** The port an httpGet points at, as a number (a name is looked up among the container's ports). */
function httpGetPort(container: IContainer, probe: IProbe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  return typeof port === 'number' ? port : container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

describe('manifests/variants/sidecar', () => {
  test('check 6: a native sidecar probed on its --listen port; the app container runs nothing and deregisters through httpGet', () => {
    for (const { owner, template } of podTemplates(render('variants/sidecar'))) {
      const sidecar = sidecarContainer(owner, template);
      const listen = flagValue(sidecar.args ?? [], '--listen') ?? ':9901';
      const port = Number(listen.split(':').at(-1));
      assert.ok(sidecar.ports?.some((candidate) => candidate.containerPort === port), `${owner}: the sidecar does not declare its --listen port ${port}`);
      for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz'], ['startupProbe', '/healthz']] as const) {
        assert.equal(sidecar[probe]?.httpGet?.path, path, `${owner}: the sidecar's ${probe} must GET ${path}`);
        assert.equal(httpGetPort(sidecar, sidecar[probe]), port, `${owner}: the sidecar's ${probe} must point at its --listen port ${port}`);
      }
      assert.equal(sidecar.env?.find((variable) => variable.name === 'HOST_IP')?.valueFrom?.fieldRef?.fieldPath, 'status.hostIP', `${owner}: the default --trusted-source needs HOST_IP`);

      const app = appContainer(owner, template);
      assert.equal(app.lifecycle?.postStart, undefined, `${owner}: the app container must have no postStart: the sidecar registers`);
      assert.equal(app.lifecycle?.preStop?.exec, undefined, `${owner}: the app container must run no process in preStop`);
      assert.equal(app.lifecycle?.preStop?.httpGet?.path, '/deregister', `${owner}: the app container's preStop must GET /deregister`);
      // A lifecycle httpGet's named port is looked up among the app container's own ports: the number is unambiguous.
      assert.equal(app.lifecycle?.preStop?.httpGet?.port, port, `${owner}: the app container's preStop must reach the sidecar's port ${port}`);
      assert.equal(app.lifecycle?.preStop?.httpGet?.host, undefined, `${owner}: no host: the kubelet sends it to the pod (and PSA baseline refuses host)`);
      assert.ok(!template.spec?.volumes?.some((volume) => volume.emptyDir || volume.image), `${owner}: nothing of cmdb-hook reaches the app container`);
      assert.deepEqual(app.volumeMounts ?? [], [], `${owner}: the app container needs no cmdb-hook volume`);
    }
  });
});
