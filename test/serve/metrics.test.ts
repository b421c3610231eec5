import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register } from 'prom-client';
import { createRegistry, defineCounter, defineGauge, defineHistogram, METRIC_PREFIX } from '../../src/serve/metrics.ts';

test('counters, gauges and histograms are defined with the cmdb_hook_ prefix in the registry they are given', async () => {
  const registry = createRegistry();
  const other = createRegistry();
  defineCounter(registry, { name: 'records_written_total', help: 'Records written.' }).inc();
  defineGauge(registry, { name: 'watch_connected', help: 'Whether the watch is connected.', labelNames: ['resource'] }).set({ resource: 'pods' }, 1);
  const latency = defineHistogram(registry, { name: 'cmdb_request_seconds', help: 'CMDB request time.', buckets: [0.1, 1] });
  latency.observe(0.05);
  latency.observe(2);
  const text = await registry.metrics();
  assert.match(text, /^cmdb_hook_records_written_total 1$/m);
  assert.match(text, /^cmdb_hook_watch_connected\{resource="pods"\} 1$/m);
  assert.match(text, /^cmdb_hook_cmdb_request_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(text, /^cmdb_hook_cmdb_request_seconds_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^cmdb_hook_cmdb_request_seconds_count 2$/m);
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) assert.ok(line.startsWith(METRIC_PREFIX), line);
  assert.equal((await other.metrics()).trim(), '', 'nothing leaks into another registry');
  assert.equal((await register.metrics()).trim(), '', 'nor into prom-client\'s global one');
});

test('process metrics are off unless asked for, and prefixed too when on', async () => {
  assert.equal((await createRegistry().metrics()).trim(), '');
  const text = await createRegistry({ processMetrics: true }).metrics();
  assert.match(text, /^cmdb_hook_process_resident_memory_bytes \d+$/m);
  assert.match(text, /^# TYPE cmdb_hook_nodejs_eventloop_lag_p99_seconds gauge$/m);
  const names = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-z_:]+/.exec(l)?.[0]));
  for (const name of names) assert.ok(name?.startsWith(METRIC_PREFIX), String(name));
});

test('a name given with the prefix, a duplicate name and an undeclared label are programming errors', () => {
  const registry = createRegistry();
  assert.throws(() => defineCounter(registry, { name: 'cmdb_hook_x_total', help: 'x' }), /give the name without cmdb_hook_/);
  defineCounter(registry, { name: 'x_total', help: 'x' });
  assert.throws(() => defineCounter(registry, { name: 'x_total', help: 'x' }), /already been registered/);
  const labelled = defineCounter(registry, { name: 'y_total', help: 'y', labelNames: ['outcome'] });
  assert.throws(() => labelled.inc({ pod: 'web-0' } as never), /Added label "pod" is not included/);
});
