/**
 * A TCP proxy on 127.0.0.1 in front of a broker, so a test can come between one client and the broker without
 * touching either: `cut()` closes every connection and refuses new ones (a firewall rejecting, a broker's node gone)
 * until `restore()`; `hold()` keeps every connection open but lets nothing from the clients through any more (what
 * they send meanwhile never reaches the broker), and `drop()` then closes them.
 */
import { createServer, Socket, type AddressInfo } from 'node:net';

export interface TcpProxy {
  /** `nats://127.0.0.1:<port>`-style address for the client: `<scheme>://127.0.0.1:<port>`. */
  url(scheme: string): string;
  readonly port: number;
  /** Connections made through it so far. */
  readonly accepted: number;
  cut(): void;
  restore(): void;
  hold(): void;
  /** Closes every connection and lets clients through again. */
  drop(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let holding = false;
  let accepted = 0;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (!holding) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.connect(target.port, target.host ?? '127.0.0.1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const resetAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      refusing = true;
      resetAll();
    },
    restore() {
      refusing = false;
      holding = false;
    },
    hold() {
      holding = true;
    },
    drop() {
      resetAll();
      holding = false;
    },
    async close() {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
