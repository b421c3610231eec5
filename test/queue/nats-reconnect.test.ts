/** The NATS transport across broker restarts: the consumer resumes by itself, and a rotated token file is read again. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { waitFor } from '../support/processes.ts';
import { message, openTransport } from './nats-support.ts';

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.dispose();
});

const signal = () => AbortSignal.timeout(20_000);

describe('reconnect', () => {
  it('consumes on after the broker was killed and restarted: everything published before and after arrives', async () => {
    const { transport, captured } = await openTransport(server, { cluster: 'resume', stream: 'RESUME', publishTimeoutMs: 1000 });
    const seen = new Set<string>();
    const stop = new AbortController();
    try {
      await transport.declare(signal());
      const publisher = transport.publisher();
      const running = transport.consumer({ concurrency: 2 }).run((delivery) => {
        seen.add(delivery.message.id);
        return Promise.resolve({ kind: 'ack' });
      }, stop.signal);
      for (let index = 0; index < 5; index++) await publisher.publish(message(`before-${index}`), signal());
      assert.ok(await waitFor(() => seen.size === 5, 5000));
      await server.stop();
      const restarted = sleep(1000).then(() => server.start());
      for (let index = 0; index < 5; index++) await publisher.publish(message(`after-${index}`), signal());
      await restarted;
      assert.ok(await waitFor(() => seen.size === 10, 15_000), `saw ${[...seen].join(' ')}`);
      assert.ok(captured.lines.some((line) => line.msg === 'disconnected from NATS; reconnecting'));
      assert.ok(captured.lines.some((line) => line.msg === 'reconnected to NATS'));
      stop.abort();
      await running;
    } finally {
      stop.abort();
      await transport.close();
    }
  });

  it('reads the token file again at every reconnect: a rotated token is picked up once the file has it', async () => {
    const { transport, captured } = await openTransport(server, { cluster: 'rotate', stream: 'ROTATE', side: 'publish', publishTimeoutMs: 1000 });
    const rotated = 'rotated-token-8d2e41';
    try {
      await transport.declare(signal());
      const publisher = transport.publisher();
      await publisher.publish(message('old-token'), signal());
      await server.stop();
      server.setToken(rotated);
      await server.start();
      // The server has the new token; the file does not yet (a Secret update reaches a pod later).
      const published = publisher.publish(message('new-token'), signal());
      assert.ok(await waitFor(() => captured.lines.some((line) => String(line.msg).includes('refused the credential')), 10_000), 'the refusal was logged');
      await sleep(2500); // several refused attempts: a client that gives up after two would be closed for good by now
      writeFileSync(server.tokenFile, `${rotated}\n`);
      assert.deepEqual(await published, { duplicate: false });
      const refused = captured.lines.filter((line) => String(line.msg).includes('refused the credential'));
      assert.equal(refused.length, 1, 'one line per outage, not one per attempt');
      assert.match(String(refused[0]?.msg), /check the file --nats-token-file \(CMDB_HOOK_NATS_TOKEN_FILE\) names/);
      assert.ok(!JSON.stringify(captured.lines).includes(rotated) && !JSON.stringify(captured.lines).includes(server.token), 'no token in the log');
    } finally {
      server.setToken(server.token);
      writeFileSync(server.tokenFile, `${server.token}\n`);
      await transport.close();
    }
  });
});
