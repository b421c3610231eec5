// The sidecar's settings that are pure functions: CIDRs, the trusted-source check, the heartbeat's jitter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { LOOPBACK } from '../../src/config/sidecar-config.ts';
import { addressInBlock, parseCidr } from '../../src/settings/cidr.ts';
import { JITTER, jittered } from '../../src/sidecar/beat-schedule.ts';
import { createSourceCheck } from '../../src/sidecar/trusted-sources.ts';

test('CIDRs and bare addresses parse; anything else is a ConfigError naming the setting', () => {
  assert.deepEqual(parseCidr('x', '10.244.3.1'), { address: '10.244.3.1', prefix: 32, family: 'ipv4' });
  assert.deepEqual(parseCidr('x', ' 10.244.3.0/24 '), { address: '10.244.3.0', prefix: 24, family: 'ipv4' });
  assert.deepEqual(parseCidr('x', 'fd00::/64'), { address: 'fd00::', prefix: 64, family: 'ipv6' });
  assert.deepEqual(parseCidr('x', '169.254.7.127'), { address: '169.254.7.127', prefix: 32, family: 'ipv4' });
  for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/24/1', 'node-a', '', '10.0.0/24', '10.0.0.0/-1']) {
    assert.throws(() => parseCidr('--trusted-source (CMDB_HOOK_TRUSTED_SOURCE)', bad), (error: unknown) => error instanceof ConfigError && error.message.startsWith(`--trusted-source (CMDB_HOOK_TRUSTED_SOURCE) ${JSON.stringify(bad)} is not an IP address or CIDR`), bad);
  }
});

test('the source check: the blocks given and exactly 127.0.0.1 and ::1 of loopback; IPv4-mapped peers are IPv4', () => {
  const check = createSourceCheck([parseCidr('x', '10.244.3.1'), parseCidr('x', 'fd00:1::/64'), ...LOOPBACK]);
  const rows: [string | undefined, boolean, string][] = [
    ['10.244.3.1', true, '10.244.3.1'],
    ['::ffff:10.244.3.1', true, '10.244.3.1'],
    ['::FFFF:10.244.3.1', true, '10.244.3.1'],
    ['10.244.3.2', false, '10.244.3.2'],
    ['::ffff:10.244.3.2', false, '10.244.3.2'],
    ['127.0.0.1', true, '127.0.0.1'],
    ['::ffff:127.0.0.1', true, '127.0.0.1'],
    ['127.0.0.2', false, '127.0.0.2'],
    ['::1', true, '::1'],
    ['fd00:1::5', true, 'fd00:1::5'],
    ['fd00:2::5', false, 'fd00:2::5'],
    [undefined, false, 'an unknown address'],
  ];
  for (const [address, trusted, source] of rows) assert.deepEqual(check(address), { trusted, source }, String(address));
});

test('each heartbeat interval is within [0.9, 1.1] x the setting, spread over the whole range', () => {
  assert.equal(JITTER, 0.1);
  assert.equal(jittered(60_000, () => 0), 54_000);
  assert.equal(jittered(60_000, () => 0.5), 60_000);
  assert.equal(jittered(60_000, () => 0.999_999), 66_000);
  const draws = Array.from({ length: 2_000 }, () => jittered(10_000));
  assert.ok(draws.every((ms) => ms >= 9_000 && ms <= 11_000));
  assert.ok(Math.min(...draws) < 9_100 && Math.max(...draws) > 10_900, 'both ends are reached');
});

test('pod-subnet/<bits>+<n>: the address n into the block of POD_IP (a node\'s gateway), IPv4 and IPv6', () => {
  const rows: [string, number, number, string | undefined][] = [
    ['10.244.3.17', 24, 1, '10.244.3.1'], // Flannel cni0, Antrea antrea-gw0, kube-router kube-bridge
    ['10.128.1.200', 23, 2, '10.128.0.2'], // OVN-Kubernetes ovn-k8s-mp0 (OpenShift's default /23 per node)
    ['fd00:10:244:3::1a', 64, 1, 'fd00:10:244:3::1'],
    ['fd00::5', 120, 1, 'fd00::1'],
    ['10.0.0.5', 31, 2, undefined], // does not fit
    ['10.0.0.5', 33, 1, undefined],
  ];
  for (const [pod, bits, offset, expected] of rows) assert.equal(addressInBlock(pod, bits, offset), expected, `${pod} /${bits} +${offset}`);
});
