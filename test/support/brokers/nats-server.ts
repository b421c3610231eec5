/**
 * A real `nats-server -js` (Debian's package) on 127.0.0.1, for the queue tests: a free port, a temporary store
 * directory with file storage, a token in its config file (never on its argv). `stop()` kills it (SIGKILL: a crash,
 * which file storage survives); `start()` again brings it back on the same port and store, as a restarted broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** The token the server accepts, and a file that holds it (what --nats-token-file names). */
  readonly token: string;
  readonly tokenFile: string;
  /** Changes the token the server accepts from its next start (the token file is left to the test: a rotation). */
  setToken(token: string): void;
  readonly dir: string;
  /** (Re)starts the server on the same port and store; resolves once it accepts clients. */
  start(): Promise<void>;
  /** Kills the server at once (SIGKILL) and waits for it to be gone. */
  stop(): Promise<void>;
  /** Stops the server and removes its store. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** `tls`: the server's certificate and key files, so clients must connect with TLS and trust its CA. */
export async function startNatsServer(options: { tls?: { certFile: string; keyFile: string } } = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-nats-'));
  const port = await freePort();
  const token = randomBytes(18).toString('base64url');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const config = join(dir, 'nats.conf');
  const writeConfig = (accepted: string) => writeFileSync(config, [
    'host: 127.0.0.1',
    `port: ${port}`,
    `authorization { token: ${JSON.stringify(accepted)} }`,
    ...(options.tls ? [`tls { cert_file: ${JSON.stringify(options.tls.certFile)}, key_file: ${JSON.stringify(options.tls.keyFile)} }`] : []),
    `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))}, max_memory_store: 64MB, max_file_store: 256MB }`,
    '',
  ].join('\n'), { mode: 0o600 });
  writeConfig(token);
  let child: ChildProcess | undefined;
  let log = '';

  const start = async (): Promise<void> => {
    if (child) throw new Error('nats-server is already running');
    log = '';
    const started = spawn('nats-server', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s:\n${log}`)), 10_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server ended (${code ?? signal}) before it was ready:\n${log}`));
      });
    });
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (!running) return;
    child = undefined;
    if (running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await gone;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    token,
    tokenFile,
    setToken: writeConfig,
    dir,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
