/**
 * A TCP relay on 127.0.0.1 in front of a real server, that a test can cut: every open connection is destroyed at
 * once and new ones are refused (closed on accept) until it is restored, as a network partition between one client
 * and the server looks to both of them. Other clients, connected to the server directly, are not touched.
 */
import net from 'node:net';

export interface TcpCut {
  readonly port: number;
  /** Destroys the open connections; new ones are closed on accept until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpCut(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpCut> {
  const open = new Set<net.Socket>();
  let isCut = false;
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const cut = () => {
    isCut = true;
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port,
    cut,
    restore() {
      isCut = false;
    },
    async close() {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
