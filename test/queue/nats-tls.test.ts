/** The NATS transport to a server that requires TLS: the CA comes from --nats-ca-file; an untrusted server is a config error. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { NatsTransport } from '../../src/queue/nats/nats-transport.ts';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { captureLog } from '../support/capture-log.ts';
import { makeCertificates, type Certificates } from '../support/certificates.ts';
import { message } from './nats-support.ts';

let server: NatsServer;
let certs: Certificates;
before(async () => {
  certs = makeCertificates();
  server = await startNatsServer({ tls: { certFile: join(certs.dir, 'server.crt'), keyFile: join(certs.dir, 'server.key') } });
});
after(async () => {
  await server.dispose();
  rmSync(certs.dir, { recursive: true, force: true });
});

const open = (caFile: string | undefined) =>
  NatsTransport.open({ url: server.url, cluster: 'tls', stream: 'TLS', tokenFile: server.tokenFile, caFile, side: 'publish', logger: captureLog().log }, AbortSignal.timeout(10_000));

describe('TLS', () => {
  it('connects, declares and publishes with the CA of --nats-ca-file', async () => {
    const transport = await open(certs.caFile);
    try {
      await transport.declare(AbortSignal.timeout(10_000));
      assert.deepEqual(await transport.publisher().publish(message('over-tls'), AbortSignal.timeout(10_000)), { duplicate: false });
    } finally {
      await transport.close();
    }
  });

  it('names --nats-ca-file at once when it holds another CA, or when it is missing', async () => {
    await assert.rejects(open(certs.otherCaFile), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /is not trusted by the CA in --nats-ca-file \(CMDB_HOOK_NATS_CA_FILE\) .*other-ca\.crt \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
      return true;
    });
    await assert.rejects(open(undefined), /is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); set --nats-ca-file \(CMDB_HOOK_NATS_CA_FILE\)/);
    await assert.rejects(open(join(certs.dir, 'absent.crt')), /--nats-ca-file \(CMDB_HOOK_NATS_CA_FILE\) .*absent\.crt cannot be read \(ENOENT\)/);
  });
});
