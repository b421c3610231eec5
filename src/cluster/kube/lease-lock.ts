/**
 * A coordination.k8s.io/v1 Lease as a lock (client-go tools/leaderelection/resourcelock/leaselock.go): get, create,
 * and update with the resourceVersion last read, which makes the update a compare-and-swap (a stale one is 409
 * Conflict). Times are MicroTime: RFC 3339 with exactly 6 fractional digits and "Z" (k8s.io/apimachinery
 * pkg/apis/meta/v1 micro_time.go); kube-apiserver rejects the 3 digits of Date.toISOString() with a 400.
 */
import type { KubeClient } from './api-client.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  spec?: LeaseSpec;
}

/** `2026-12-02T10:00:00.123000Z`: a Date has milliseconds; the 3 digits more are zeros. */
export function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaseLock {
  readonly description: string;
  get(signal: AbortSignal): Promise<Lease>;
  create(spec: LeaseSpec, signal: AbortSignal): Promise<Lease>;
  /** PUT of `lease` (its resourceVersion is the precondition) with a new spec. */
  update(lease: Lease, spec: LeaseSpec, signal: AbortSignal): Promise<Lease>;
}

export function leaseLock(client: KubeClient, namespace: string, name: string, timeoutMs: number): LeaseLock {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  return {
    description: `lease ${namespace}/${name}`,
    get: (signal) => client.request<Lease>({ path, signal, timeoutMs }),
    create: (spec, signal) =>
      client.request<Lease>({ method: 'POST', path: collection, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec }, signal, timeoutMs }),
    update: (lease, spec, signal) => client.request<Lease>({ method: 'PUT', path, body: { ...lease, spec }, signal, timeoutMs }),
  };
}
