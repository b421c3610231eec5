/**
 * The pod's network as the harness maps it onto one machine: every pod has its own network namespace on a node,
 * here they share this machine's loopback. So each declared containerPort gets a free loopback port, rewritten
 * wherever the manifests name it (`127.0.0.1:<port>`, `localhost:<port>`, and a listen address `:<port>`, which
 * becomes the pod's address: nothing listens beyond loopback), and three loopback addresses stand for the pod, the
 * node (HOST_IP, where the kubelet's own requests come from) and another pod of the cluster.
 */
import net from 'node:net';
import type { ContainerSpec } from './environment.ts';

export const POD_ADDRESS = '127.0.0.1';
export const OTHER_POD_ADDRESS = '127.0.0.2';
export const NODE_ADDRESS = '127.0.0.3';

/** A free loopback port for each containerPort of the pod's containers (init containers included). */
export async function allocatePorts(containers: ContainerSpec[]): Promise<Record<number, number>> {
  const ports: Record<number, number> = {};
  for (const port of containers.flatMap((container) => container.ports ?? [])) {
    ports[port.containerPort] = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, POD_ADDRESS, () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
  }
  return ports;
}

/** A value from the manifests with each containerPort replaced by its loopback port. */
export function mapPorts(value: string, ports: Record<number, number>): string {
  let mapped = value;
  for (const [from, to] of Object.entries(ports)) {
    if (mapped === `:${from}`) return `${POD_ADDRESS}:${to}`;
    mapped = mapped.replaceAll(`127.0.0.1:${from}`, `127.0.0.1:${to}`).replaceAll(`localhost:${from}`, `localhost:${to}`);
  }
  return mapped;
}
