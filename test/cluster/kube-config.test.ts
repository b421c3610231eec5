// Where the controller's Kubernetes connection comes from (--kubeconfig, the pod's service account, KUBECONFIG,
// ~/.kube/config), what a bad one says, and credentials that rotate — each proven by a real request to the API
// stand-in over HTTPS.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createKubeClient } from '../../src/cluster/kube/api-client.ts';
import { KubeApiError } from '../../src/cluster/kube/kube-api-error.ts';
import { loadKubeConnection, type LoadConnectionOptions } from '../../src/cluster/kube/kube-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { makeCertificates } from '../support/certificates.ts';
import { DEFAULT_TOKEN, DEFAULT_USER, startKubeApi, type KubeApi } from '../support/kube-api/kube-api-stand-in.ts';
import { kubeconfigOf } from '../support/kube-api/kubeconfig.ts';
import { tempDir } from '../support/kube-client.ts';

const certificates = makeCertificates();
const ROTATED = 'rotated-token-fedcba9876543210';

async function standIn(t: TestContext): Promise<KubeApi> {
  const api = await startKubeApi({ certificates, tokens: { [DEFAULT_TOKEN]: DEFAULT_USER, [ROTATED]: DEFAULT_USER } });
  t.after(() => api.close());
  return api;
}

function write(path: string, content: unknown): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  return path;
}

/** A request through the loaded connection: proves server, CA and credentials together. */
async function listPods(options: LoadConnectionOptions): Promise<{ source: string; namespace: string | undefined }> {
  const connection = loadKubeConnection(options);
  const client = createKubeClient(connection, { timeoutMs: 5000 });
  try {
    await client.request({ path: '/api/v1/namespaces/default/pods' });
  } finally {
    client.close();
  }
  return { source: connection.source, namespace: connection.namespace };
}

function serviceAccount(dir: string, token: string, ca: string): string {
  write(join(dir, 'token'), token);
  write(join(dir, 'ca.crt'), ca);
  write(join(dir, 'namespace'), 'from-pod');
  return dir;
}

test('the order is --kubeconfig, then the pod\'s service account, then KUBECONFIG, then ~/.kube/config', async (t) => {
  const api = await standIn(t);
  const root = tempDir();
  const port = new URL(api.url).port;
  const flag = write(join(root, 'flag', 'kubeconfig'), kubeconfigOf({ server: api.url, ca: api.ca, token: api.token, namespace: 'from-flag' }));
  const fromEnv = write(join(root, 'env', 'kubeconfig'), kubeconfigOf({ server: api.url, ca: api.ca, token: api.token, namespace: 'from-env' }));
  const home = join(root, 'home');
  write(join(home, '.kube', 'config'), kubeconfigOf({ server: api.url, ca: api.ca, token: api.token, namespace: 'from-home' }));
  const serviceAccountDir = serviceAccount(join(root, 'sa'), api.token, api.ca);
  const pod = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port };
  const everything = { ...pod, KUBECONFIG: fromEnv, HOME: home };

  assert.deepEqual(await listPods({ kubeconfig: flag, env: everything, serviceAccountDir }), { source: 'flag', namespace: 'from-flag' });
  assert.deepEqual(await listPods({ env: everything, serviceAccountDir }), { source: 'in-cluster', namespace: 'from-pod' });
  const noTokenMounted = tempDir();
  assert.deepEqual(await listPods({ env: everything, serviceAccountDir: noTokenMounted }), { source: 'KUBECONFIG', namespace: 'from-env' }, 'automountServiceAccountToken: false');
  assert.deepEqual(await listPods({ env: { KUBECONFIG: fromEnv, HOME: home }, serviceAccountDir }), { source: 'KUBECONFIG', namespace: 'from-env' }, 'not in a pod');
  assert.deepEqual(await listPods({ env: { HOME: home }, serviceAccountDir }), { source: 'home', namespace: 'from-home' });
});

test('a connection that cannot be had is a ConfigError (exit 2) naming --kubeconfig and what to do', async (t) => {
  const api = await standIn(t);
  const root = tempDir();
  const good = kubeconfigOf({ server: api.url, ca: api.ca, token: api.token });
  const cases: { options: LoadConnectionOptions; message: RegExp }[] = [
    { options: { kubeconfig: join(root, 'missing'), env: {} }, message: /^--kubeconfig \(CMDB_HOOK_KUBECONFIG\) .*missing: does not exist \(ENOENT\); give the path of a readable kubeconfig file$/ },
    { options: { kubeconfig: '  ', env: {} }, message: /^--kubeconfig \(CMDB_HOOK_KUBECONFIG\) is empty/ },
    { options: { env: { HOME: root } }, message: /^no Kubernetes API to connect to: not in a pod \(KUBERNETES_SERVICE_HOST is unset\), KUBECONFIG is unset and .* does not exist; give --kubeconfig \(CMDB_HOOK_KUBECONFIG\) <path>/ },
    { options: { env: { HOME: root, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: root }, message: /no service account token at .*automountServiceAccountToken: false/ },
    { options: { env: { KUBECONFIG: `${join(root, 'a')}:${join(root, 'b')}` } }, message: /none of these files exists; fix KUBECONFIG, or give --kubeconfig/ },
    { options: { kubeconfig: write(join(root, 'not-yaml'), '{ clusters: [ unclosed'), env: {} }, message: /not-yaml: is not YAML/ },
    { options: { kubeconfig: write(join(root, 'no-context'), { ...good, 'current-context': '' }), env: {} }, message: /no current-context is set; .*kubectl config use-context/ },
    { options: { kubeconfig: write(join(root, 'other-context'), { ...good, 'current-context': 'elsewhere' }), env: {} }, message: /the current-context "elsewhere" is not defined/ },
    { options: { kubeconfig: write(join(root, 'plain-http'), kubeconfigOf({ server: 'http://127.0.0.1:8080', ca: api.ca, token: 'x' })), env: {} }, message: /plain http server \(http:\/\/127\.0\.0\.1:8080\): credentials would travel in clear text; use https, or set insecure-skip-tls-verify/ },
  ];
  for (const { options, message } of cases) {
    assert.throws(() => loadKubeConnection(options), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, message);
      return true;
    });
  }
  const serviceAccountDir = join(root, 'sa-without-ca');
  write(join(serviceAccountDir, 'token'), 'x');
  assert.throws(() => loadKubeConnection({ env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1' }, serviceAccountDir }), /ca\.crt is missing; mount the service account token volume/);
});

test('plain http is taken only when the cluster says insecure-skip-tls-verify, as client-node does', async (t) => {
  const seen: (string | undefined)[] = [];
  const server = http.createServer((request, response) => {
    seen.push(request.headers.authorization);
    response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"kind":"PodList","items":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = kubeconfigOf({ server: url, ca: '', token: 'plain-token' }) as { clusters: { cluster: Record<string, unknown> }[] };
  for (const entry of config.clusters) entry.cluster = { server: url, 'insecure-skip-tls-verify': true };
  await listPods({ kubeconfig: write(join(tempDir(), 'kubeconfig'), config), env: {} });
  assert.deepEqual(seen, ['Bearer plain-token']);
});

test('KUBECONFIG files merge as kubectl merges them: first current-context and first definition win, missing files skipped', async (t) => {
  const api = await standIn(t);
  const root = tempDir();
  const full = kubeconfigOf({ server: api.url, ca: api.ca, token: api.token, name: 'real' }) as Record<string, unknown[]>;
  const first = write(join(root, 'first'), { ...full, users: [] });
  const decoy = kubeconfigOf({ server: 'https://127.0.0.1:1', ca: api.ca, token: 'wrong', name: 'real' });
  const second = write(join(root, 'second'), { ...decoy, users: full.users, 'current-context': 'decoy' });
  const connection = loadKubeConnection({ env: { KUBECONFIG: [join(root, 'missing'), first, second].join(':') } });
  assert.equal(connection.describe().context, 'real');
  assert.equal(connection.server.origin, api.url, 'the first file\'s cluster wins');
  await listPods({ env: { KUBECONFIG: [first, second].join(':') } });
});

test('token files are read again: after the refresh period, and at once after a 401 (kubeconfig token-file and in-cluster)', async (t) => {
  const api = await standIn(t);
  const root = tempDir();
  const config = kubeconfigOf({ server: api.url, ca: api.ca, token: '' }) as { users: { user: Record<string, unknown> }[] };
  // A path relative to the kubeconfig's folder, as kubectl reads it (the library alone would read it from the cwd).
  for (const entry of config.users) entry.user = { 'token-file': 'token' };
  const kubeconfig = write(join(root, 'kc', 'kubeconfig'), config);
  const setups = [
    { name: 'token-file', tokenPath: join(root, 'kc', 'token'), options: { kubeconfig, env: {} } },
    { name: 'in-cluster', tokenPath: join(root, 'sa', 'token'), options: { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(api.url).port }, serviceAccountDir: serviceAccount(join(root, 'sa'), '', api.ca) } },
  ];
  for (const { name, tokenPath, options } of setups) {
    write(tokenPath, `${api.token}\n`);
    const connection = loadKubeConnection({ ...options, tokenRefreshMs: 300 });
    assert.equal(connection.describe().auth, 'token-file', name);
    const client = createKubeClient(connection, { timeoutMs: 5000 });
    t.after(() => client.close());
    const list = () => client.request({ path: '/api/v1/namespaces/default/pods' });
    await list();
    write(tokenPath, 'revoked-token');
    await list(); // within the refresh period: the token read before
    await new Promise((resolve) => setTimeout(resolve, 350));
    const refused = await list().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof KubeApiError && refused.status === 401, `${name}: the re-read token is sent: ${String(refused)}`);
    assert.doesNotMatch(refused.message, /revoked-token/, 'an error never carries the token');
    write(tokenPath, ROTATED);
    await list(); // the 401 made it read the file again at once, without waiting for the period
  }
});

test('an exec plugin\'s credential is used (client-node\'s ExecAuth), and describe() shows no secret', async (t) => {
  const api = await standIn(t);
  const config = kubeconfigOf({ server: api.url, ca: api.ca, token: '' }) as { users: { user: Record<string, unknown> }[] };
  const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: api.token } };
  for (const entry of config.users) entry.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`] } };
  const kubeconfig = write(join(tempDir(), 'kubeconfig'), config);
  const connection = loadKubeConnection({ kubeconfig, env: {} });
  assert.equal(connection.describe().auth, 'exec');
  await listPods({ kubeconfig, env: {} });
  const withToken = loadKubeConnection({ kubeconfig: api.writeKubeconfig(tempDir()), env: {} });
  assert.equal(withToken.describe().auth, 'token');
  for (const described of [connection.describe(), withToken.describe()]) assert.doesNotMatch(JSON.stringify(described), new RegExp(api.token));
});
