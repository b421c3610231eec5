/**
 * A real RabbitMQ broker (Debian's rabbitmq-server) for tests: one node on 127.0.0.1 with free ports, its own epmd,
 * its data and logs in a temp dir, a user with a password. It boots in seconds, so a test file shares one per suite;
 * `stop()`/`kill()` and `start()` restart it on the same port with the same data, for reconnect tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';

export interface RabbitMqServer {
  readonly port: number;
  /** The TLS listener's port, when started with `tls`; 0 otherwise. */
  readonly tlsPort: number;
  readonly username: string;
  readonly password: string;
  /** `amqp://<user>@127.0.0.1:<port>/`: no password, as --amqp-url takes it. */
  readonly url: string;
  readonly dir: string;
  /** Milliseconds the last start took until the broker accepted an AMQP login. */
  readonly lastStartMs: number;
  /** Starts it again on the same port and data (after stop() or kill()). */
  start(): Promise<void>;
  /** Stops the broker cleanly (SIGTERM: it closes connections and syncs its queues). */
  stop(): Promise<void>;
  /** Kills the broker without warning (SIGKILL to its process group), as a crash would. */
  kill(): Promise<void>;
  /** Stops it, ends its epmd and removes its files. */
  close(): Promise<void>;
}

// The Debian wrapper in /usr/sbin switches to the rabbitmq user and to /var/lib/rabbitmq; the script it wraps does not.
const SERVER_SCRIPT = realpathSync('/usr/lib/rabbitmq/bin/rabbitmq-server');
const START_WITHIN_MS = 60_000;
const STOP_WITHIN_MS = 20_000;

let nodes = 0;

/** PEM files for a TLS listener beside the plain one. */
export interface BrokerTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export async function startRabbitMq(options: { tls?: BrokerTls } = {}): Promise<RabbitMqServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-rabbitmq-'));
  const [port = 0, distPort = 0, epmdPort = 0, tlsPort = 0] = await freePorts(4);
  const tls = options.tls;
  const username = 'cmdb-hook';
  const password = `test-${process.pid}-${Date.now().toString(36)}`;
  writeFileSync(join(dir, 'rabbitmq.conf'), [
    `listeners.tcp.default = 127.0.0.1:${port}`,
    `default_user = ${username}`,
    `default_pass = ${password}`,
    'log.console = false',
    'log.file.level = info',
    ...(tls ? [
      `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
      `ssl_options.certfile = ${tls.certFile}`,
      `ssl_options.keyfile = ${tls.keyFile}`,
      `ssl_options.cacertfile = ${tls.caFile}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
    ] : []),
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const distOnLoopback = '-kernel inet_dist_use_interface {127,0,0,1}';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir, // the Erlang cookie lives here
    LANG: 'C.UTF-8',
    RABBITMQ_NODENAME: `cmdbhook-${process.pid}-${nodes++}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: distOnLoopback,
  };
  // Our own epmd in the foreground: the VM would otherwise start a daemon that outlives it.
  const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, stdio: 'ignore' });
  let broker: ChildProcess | undefined;
  let lastStartMs = 0;
  let output = '';

  const start = async (): Promise<void> => {
    const began = performance.now();
    output = '';
    // Its own process group, so a kill reaches the VM and its helpers (erl_child_setup, inet_gethost).
    const child = spawn(SERVER_SCRIPT, [], { env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    broker = child;
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const until = began + START_WITHIN_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`rabbitmq-server ended while starting:\n${output}`);
      if (await acceptsLogin(port, username, password)) break;
      if (performance.now() > until) {
        killGroup(child, 'SIGKILL');
        throw new Error(`rabbitmq-server did not accept AMQP within ${START_WITHIN_MS} ms:\n${output}`);
      }
      await sleep(100);
    }
    lastStartMs = performance.now() - began;
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const child = broker;
    broker = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = once(child, 'exit');
    // SIGTERM goes to the script, which stops the VM gracefully and waits for it; SIGKILL to the whole group.
    if (signal === 'SIGKILL') killGroup(child, 'SIGKILL');
    else child.kill('SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_WITHIN_MS);
    await ended;
    clearTimeout(timer);
    // The VM's helpers share the group; none may outlive it.
    killGroup(child, 'SIGKILL');
  };

  // A test process that ends without close() (an uncaught error) must not leave a broker behind.
  const orphaned = () => {
    if (broker) killGroup(broker, 'SIGKILL');
    epmd.kill('SIGKILL');
  };
  process.once('exit', orphaned);
  try {
    await start();
  } catch (error) {
    process.removeListener('exit', orphaned);
    epmd.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    tlsPort: tls ? tlsPort : 0,
    username,
    password,
    url: `amqp://${username}@127.0.0.1:${port}/`,
    dir,
    get lastStartMs() { return lastStartMs; },
    start,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async close() {
      await end('SIGTERM');
      if (epmd.exitCode === null && epmd.signalCode === null) {
        const gone = once(epmd, 'exit');
        epmd.kill('SIGTERM');
        await gone;
      }
      process.removeListener('exit', orphaned);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

async function acceptsLogin(port: number, username: string, password: string): Promise<boolean> {
  try {
    const connection = await amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port, username, password, vhost: '/' }, { timeout: 2000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** Ports the system hands out for port 0, held together so they differ, then released for the broker. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  }));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
