/**
 * What the RabbitMQ end-to-end files share: a broker and a scene (the Kubernetes API stand-in, the sandbox CMDB), the
 * publisher and consumer processes started on them, each test on its own exchange and queue, and the check that the
 * AMQP password shows in no argv and no output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRabbitMq, type RabbitMqServer } from '../support/brokers/rabbitmq-server.ts';
import { SELECTED, startScene, untilReady, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import type { SandboxOptions } from '../support/sandbox-cmdb.ts';

export interface RabbitScene {
  scene: Scene;
  broker: RabbitMqServer;
  /** --amqp-url (or `url`), the password file, and an exchange and queue of the test's own. */
  amqpFlags(url?: string): string[];
  start(side: 'publish' | 'consume', flags: string[]): ControllerProcess;
  /** Stops each (exit 0 expected unless it was killed) and checks the password is in no argv and no output. */
  stopAll(...processes: ControllerProcess[]): Promise<void>;
  close(): Promise<void>;
}

export async function startRabbitScene(options: { cmdb?: SandboxOptions } = {}): Promise<RabbitScene> {
  const broker = await startRabbitMq();
  const passwordFile = join(mkdtempSync(join(tmpdir(), 'cmdb-hook-amqp-')), 'password');
  writeFileSync(passwordFile, `${broker.password}\n`, { mode: 0o600 });
  const scene = await startScene(options);
  let topics = 0;
  return {
    scene,
    broker,
    amqpFlags(url = broker.url) {
      topics++;
      return ['--amqp-url', url, '--amqp-password-file', passwordFile, '--amqp-exchange', `x-${topics}`, '--amqp-queue', `q-${topics}`];
    },
    start(side, flags) {
      return side === 'publish'
        ? scene.start(['--sink', 'rabbitmq', ...flags, '--leader-elect=false', '--orphan-grace', '0s'], {}, { cmdb: false })
        : scene.start(['--source', 'rabbitmq', ...flags], {}, { command: 'consume' });
    },
    async stopAll(...processes) {
      for (const each of processes) {
        const killed = each.child.signalCode === 'SIGKILL';
        const code = await each.stop();
        if (!killed) assert.equal(code, 0, each.stderr());
        assert.ok(!each.stderr().includes(broker.password) && !each.stdout().includes(broker.password), 'the AMQP password shows in no output');
        assert.ok(!each.child.spawnargs.join(' ').includes(broker.password), 'the AMQP password is in no argv');
      }
    },
    async close() {
      await scene.close();
      await broker.close();
    },
  };
}

export const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });

/** The pods whose name starts with `prefix` that have a ready record in the CMDB, sorted. */
export function liveIn(scene: Scene, prefix: string): string[] {
  return [...scene.cmdb.records.values()].filter((record) => record.state === 'ready' && record.pod.name.startsWith(prefix)).map((record) => record.pod.name).sort();
}

export const logged = (process: ControllerProcess, pattern: RegExp) => process.logs().filter((line) => typeof line.msg === 'string' && pattern.test(line.msg));

/**
 * Whether a consumer has taken care of `records` records: written by it, or found written when it read back what
 * was applied on taking the queue (it then skips their transitions without a CMDB request).
 */
export function caughtUp(consumer: ControllerProcess, records: number): boolean {
  const readBack = logged(consumer, /read what was applied to \d+ records back/).reduce((sum, line) => sum + Number(line.records ?? 0), 0);
  return logged(consumer, /registered:/).length + readBack >= records;
}

export async function readyOrFail(...processes: ControllerProcess[]): Promise<void> {
  for (const each of processes) assert.ok(await untilReady(each, 60_000), each.stderr());
}
