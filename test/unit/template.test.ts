// --cmdb-kind template, without a process or a server: loading and validating the template file (every mistake a
// ConfigError naming the file and the JSON path), placeholder resolution (types kept, values never re-scanned,
// paths percent-encoded), the requests built from it, and the dotted paths read from answers.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildRequest } from '../../src/cmdb/template/build-request.ts';
import { valueAt } from '../../src/cmdb/template/dotted-path.ts';
import { loadTemplate } from '../../src/cmdb/template/load-template.ts';
import { Pending, resolvePath, resolveTree, resolveValue, type Scope } from '../../src/cmdb/template/placeholders.ts';
import { CmdbRejectedError, ConfigError } from '../../src/errors.ts';
import type { CmdbRecord } from '../../src/pod/record.ts';

const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-template-unit-'));
let files = 0;
function templateFile(content: unknown): string {
  const file = join(dir, `template-${files++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const EXAMPLES = new URL('../../manifests/templates/', import.meta.url).pathname;
const HOSTILE = 'a "quoted" ${token} ${pod.uid}\n\\ back\\slash \u2028 }{';

const record: CmdbRecord = {
  id: 'uid-1_app',
  cluster: 'c1',
  namespace: 'shop',
  pod: { name: 'web-0', uid: 'uid-1', ip: null, ips: ['10.0.0.1', 'fd00::1'] },
  container: 'app',
  node: { name: 'node-a', ip: '192.0.2.1' },
  app: 'shop',
  labels: { 'app.kubernetes.io/name': 'shop', evil: HOSTILE },
  annotations: { note: 'n' },
  fields: { owner: 'team a' },
  state: 'ready',
  observedAt: '2026-01-01T00:00:00.000Z',
  agent: { name: 'cmdb-hook', version: '0.1.0' },
};
const scope: Scope = { record, token: 'tok-secret', found: 12 };

test('the shipped example templates load, with the placeholders they use', () => {
  const blueking = loadTemplate(join(EXAMPLES, 'blueking.json'));
  assert.equal(blueking.find?.id, 'data.info.0.bk_inst_id');
  assert.ok(blueking.update && blueking.retire && blueking.placeholders.has('token') && blueking.placeholders.has('found.id'));
  const itop = loadTemplate(join(EXAMPLES, 'itop.json'));
  assert.equal(itop.find?.id, 'objects.*.key');
  assert.deepEqual(itop.create.success, { status: [200], json: [['code', 0]] });
  const consul = loadTemplate(join(EXAMPLES, 'consul.json'));
  assert.equal(consul.find, undefined);
  assert.deepEqual(consul.delete.gone, [404]);
  assert.deepEqual(consul.create.headers, { 'x-consul-token': '${token}' });
});

const minimal = { create: { method: 'PUT', path: '/r/${id}', json: {} }, delete: { method: 'DELETE', path: '/r/${id}' } };
const withFind = {
  find: { method: 'GET', path: '/r?uid=${pod.uid}', id: 'items.0.id' },
  create: { method: 'POST', path: '/r', json: {} },
  update: { method: 'PUT', path: '/r/${found.id}', json: {} },
  delete: { method: 'DELETE', path: '/r/${found.id}' },
};

interface BadTemplate {
  name: string;
  content: unknown;
  message: RegExp;
}

const BAD: BadTemplate[] = [
  { name: 'not JSON', content: '{ "create": ', message: /is not valid JSON \(.*\); fix the template/ },
  { name: 'an array', content: [], message: /: \$: must be a JSON object, not an array/ },
  { name: 'a misspelt top-level key', content: { ...minimal, heders: {} }, message: /: \$\.heders: is not a known key here; use description, headers, success, find/ },
  { name: 'no create', content: { delete: minimal.delete }, message: /: \$\.create: is required/ },
  { name: 'no delete', content: { create: minimal.create }, message: /: \$\.delete: is required/ },
  { name: 'an unknown method', content: { ...minimal, create: { method: 'FETCH', path: '/r' } }, message: /: \$\.create\.method: must be one of GET, PUT, POST, PATCH, DELETE, not "FETCH"/ },
  { name: 'an absolute URL as path', content: { ...minimal, create: { method: 'PUT', path: 'https://elsewhere.example/r' } }, message: /: \$\.create\.path: must be a string starting with "\/"/ },
  { name: 'a space in the path', content: { ...minimal, create: { method: 'PUT', path: '/r /x' } }, message: /: \$\.create\.path: must be printable ASCII without spaces/ },
  { name: 'json and form', content: { ...minimal, create: { method: 'POST', path: '/r', json: {}, form: {} } }, message: /: \$\.create: has both json and form/ },
  { name: 'a GET with a body', content: { ...withFind, find: { ...withFind.find, json: {} } }, message: /: \$\.find: is a GET with a body/ },
  { name: 'update without find', content: { ...minimal, update: { method: 'PUT', path: '/r' } }, message: /: \$\.update: needs \$\.find/ },
  { name: 'find without update', content: { ...withFind, update: undefined }, message: /: \$\.update: is required with \$\.find/ },
  { name: 'find without id', content: { ...withFind, find: { method: 'GET', path: '/r' } }, message: /: \$\.find\.id: is required: the dotted path/ },
  { name: 'a find id with an empty segment', content: { ...withFind, find: { ...withFind.find, id: 'items..id' } }, message: /: \$\.find\.id: "items\.\.id" is not a dotted path/ },
  { name: 'an unknown placeholder', content: { ...minimal, create: { method: 'PUT', path: '/r', json: { name: 'x ${pod.nmae}' } } }, message: /: \$\.create\.json\.name: unknown placeholder \$\{pod\.nmae\}; known: pod\.uid, .*labels\.<key>/ },
  { name: 'an unknown placeholder in a header', content: { ...minimal, headers: { 'X-Token': '${secret}' } }, message: /: \$\.headers\.x-token: unknown placeholder \$\{secret\}/ },
  { name: 'an unknown placeholder deep in a form', content: { ...minimal, create: { method: 'POST', path: '/r', form: { json_data: { list: ['ok', '${labels}', '${nope}'] } } } }, message: /: \$\.create\.form\.json_data\.list\[2\]: unknown placeholder \$\{nope\}/ },
  { name: 'a map placeholder without a key', content: { ...minimal, create: { method: 'PUT', path: '/r/${labels.}' } }, message: /: \$\.create\.path: unknown placeholder \$\{labels\.\}/ },
  { name: 'an unclosed placeholder', content: { ...minimal, create: { method: 'PUT', path: '/r', json: { a: '${pod.uid' } } }, message: /: \$\.create\.json\.a: "\$\{" without its closing "\}"/ },
  { name: '${found.id} in create', content: { ...withFind, create: { method: 'PUT', path: '/r/${found.id}' } }, message: /: \$\.create\.path: \$\{found\.id\} is only known in update, delete and retire/ },
  { name: '${found.id} without find', content: { ...minimal, delete: { method: 'DELETE', path: '/r/${found.id}' } }, message: /: \$\.delete\.path: \$\{found\.id\} is only known/ },
  { name: 'a placeholder in a key', content: { ...minimal, create: { method: 'PUT', path: '/r', json: { '${app}': 1 } } }, message: /: \$\.create\.json\.\$\{app\}: placeholders are substituted in values only/ },
  { name: 'a content-type header', content: { ...minimal, headers: { 'Content-Type': 'text/plain' } }, message: /: \$\.headers\.Content-Type: is set by cmdb-hook/ },
  { name: 'a header that is a list', content: { ...minimal, headers: { 'X-A': ['a'] } }, message: /: \$\.headers\.X-A: must be a string, or an object/ },
  { name: 'a line break in a header', content: { ...minimal, headers: { 'X-A': 'a\r\nX-B: b' } }, message: /: \$\.headers\.X-A: must be printable ASCII/ },
  { name: 'a status that is no status', content: { ...minimal, success: { status: [99] } }, message: /: \$\.success\.status: must be a non-empty list of HTTP status codes/ },
  { name: 'a success value that is an object', content: { ...minimal, success: { json: { result: { ok: true } } } }, message: /: \$\.success\.json\.result: must be a string, number, boolean or null/ },
  { name: 'gone on create', content: { ...minimal, create: { ...minimal.create, gone: [404] } }, message: /: \$\.create\.gone: only applies to find, delete and retire/ },
  { name: 'a misspelt request key', content: { ...minimal, delete: { ...minimal.delete, sucess: {} } }, message: /: \$\.delete\.sucess: is not a known key here/ },
];

for (const bad of BAD) {
  test(`template: ${bad.name} -> a ConfigError naming the file and where`, () => {
    const file = templateFile(bad.content);
    assert.throws(() => loadTemplate(file), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.ok(error.message.startsWith(`--template-file (CMDB_HOOK_TEMPLATE_FILE) ${file}`), error.message);
      assert.match(error.message, bad.message);
      return true;
    });
  });
}

test('template: a missing file is a ConfigError naming the flag', () => {
  assert.throws(() => loadTemplate(join(dir, 'none.json')), /--template-file \(CMDB_HOOK_TEMPLATE_FILE\) .*none\.json cannot be read \(ENOENT\)/);
});

const VALUES: { text: string; value: unknown }[] = [
  { text: '${pod.uid}', value: 'uid-1' },
  { text: '${pod.ip}', value: null },
  { text: '${pod.ips}', value: ['10.0.0.1', 'fd00::1'] },
  { text: '${labels}', value: record.labels },
  { text: '${labels.app.kubernetes.io/name}', value: 'shop' },
  { text: '${labels.absent}', value: null },
  { text: '${fields.owner}', value: 'team a' },
  { text: '${annotations.note}', value: 'n' },
  { text: '${node.ip}', value: '192.0.2.1' },
  { text: '${found.id}', value: 12 },
  { text: '${token}', value: 'tok-secret' },
  { text: '${labels.evil}', value: HOSTILE },
  { text: 'x-${labels.absent}-y', value: 'x--y' },
  { text: 'ips: ${pod.ips}', value: 'ips: ["10.0.0.1","fd00::1"]' },
  { text: 'id ${found.id} of ${namespace}/${pod.name}', value: 'id 12 of shop/web-0' },
  { text: '<${labels.evil}>', value: `<${HOSTILE}>` },
  { text: 'no placeholder, a lone $ and {braces}', value: 'no placeholder, a lone $ and {braces}' },
];

for (const { text, value } of VALUES) {
  test(`placeholder: ${JSON.stringify(text)} resolves to ${JSON.stringify(value)?.slice(0, 60)}`, () => {
    assert.deepEqual(resolveValue(text, scope), value);
  });
}

test('placeholder: path values are percent-encoded, one segment each; <found.id> shows as is in a plan', () => {
  assert.deepEqual(resolvePath('/r/${labels.evil}?ns=${namespace}', scope), { path: `/r/${encodeURIComponent(HOSTILE)}?ns=shop` });
  assert.deepEqual(resolvePath('/r/${found.id}', { ...scope, found: new Pending('<found.id>') }), { path: '/r/<found.id>' });
  // Percent-encoding leaves '', '.' and '..' as they are, and URL parsing would walk up: refused in the path part.
  for (const segment of ['', '.', '..']) {
    const dotted = { ...scope, record: { ...record, annotations: { x: segment } } };
    assert.deepEqual(resolvePath('/v1/deregister/${annotations.x}', dotted), { unsafe: `\${annotations.x} is ${JSON.stringify(segment)}` });
    assert.deepEqual(resolvePath('/v1/find?name=${annotations.x}', dotted), { path: `/v1/find?name=${encodeURIComponent(segment)}` }, 'a query value may be anything');
  }
  assert.deepEqual(resolvePath('/v1/deregister/${labels.missing}/x', scope), { unsafe: '${labels.missing} is ""' });
  assert.equal(resolveValue('${found.id}', { ...scope, found: new Pending('<found.id>') }), '<found.id>');
});

test('placeholder: a tree keeps its keys (even __proto__) and resolves only string values', () => {
  const tree = JSON.parse('{"__proto__": {"x": "${app}"}, "n": 1, "list": ["${pod.ips}", true, null]}') as unknown;
  const resolved = resolveTree(tree, scope) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(resolved), Object.prototype);
  assert.deepEqual(Object.keys(resolved), ['__proto__', 'n', 'list']);
  assert.deepEqual(resolved.list, [['10.0.0.1', 'fd00::1'], true, null]);
  assert.equal(JSON.stringify(resolved), '{"__proto__":{"x":"shop"},"n":1,"list":[["10.0.0.1","fd00::1"],true,null]}');
});

test('request: URL from the base, object headers as ASCII JSON, form objects JSON-encoded', () => {
  const template = loadTemplate(templateFile({
    headers: { 'X-Auth': { secret: '${token}', who: 'Zoë ${labels.evil}' } },
    create: { method: 'POST', path: '/api/${labels.app.kubernetes.io/name}?v=1.3', form: { json_data: { labels: '${labels}', ip: '${pod.ip}' }, plain: '${app}', n: 5 } },
    delete: { method: 'DELETE', path: '/api/${id}' },
  }));
  const request = buildRequest(template.create, 'http://cmdb.example/base', scope);
  assert.equal(request.url, 'http://cmdb.example/base/api/shop?v=1.3');
  const header = request.headers?.['x-auth'] ?? '';
  assert.match(header, /^[\x20-\x7e]+$/);
  assert.deepEqual(JSON.parse(header), { secret: 'tok-secret', who: `Zoë ${HOSTILE}` });
  assert.deepEqual(Object.keys(request.form ?? {}), ['json_data', 'plain', 'n']);
  assert.deepEqual(JSON.parse(request.form?.json_data ?? ''), { labels: record.labels, ip: null });
  assert.equal(request.form?.plain, 'shop');
  assert.equal(request.form?.n, '5');
  assert.equal(request.body, undefined);
});

test('request: a pod value that would put a line break into a text header is refused, not retried', () => {
  const template = loadTemplate(templateFile({ ...minimal, headers: { 'X-App': '${labels.evil}' } }));
  assert.throws(() => buildRequest(template.create, 'http://cmdb.example', scope), (error: unknown) => {
    assert.ok(error instanceof CmdbRejectedError);
    assert.match(error.message, /create header x-app would hold a control or non-ASCII character/);
    return true;
  });
});

const PATHS: { path: string; value: unknown }[] = [
  { path: 'result', value: true },
  { path: 'data.info.0.bk_inst_id', value: 7 },
  { path: 'data.info.1.bk_inst_id', value: undefined },
  { path: 'objects.*.key', value: '12' },
  { path: 'empty.*.key', value: undefined },
  { path: 'data.info.x', value: undefined },
  { path: 'result.deeper', value: undefined },
  { path: 'constructor', value: undefined },
];

for (const { path, value } of PATHS) {
  test(`dotted path: ${path}`, () => {
    const answer = { result: true, data: { info: [{ bk_inst_id: 7 }] }, objects: { 'K8sPod::12': { key: '12' } }, empty: {} };
    assert.equal(valueAt(answer, path), value);
  });
}
