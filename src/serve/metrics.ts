import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of this program starts with this, process metrics included, so one scrape config's regex finds them. */
export const METRIC_PREFIX = 'cmdb_hook_';

export interface RegistryOptions {
  /**
   * prom-client's process metrics (CPU, memory, open fds, event-loop lag, GC, heap spaces), prefixed too. They add
   * about 30 families and read /proc/self on every scrape, and they keep an event-loop delay histogram and a GC
   * observer running, so a mode turns them on rather than paying for them by default.
   */
  readonly processMetrics?: boolean;
}

/** A fresh registry per process (or per test): nothing registers into prom-client's global one. */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/** What a metric is: its name without the prefix, its help line and its label names. */
export interface MetricSpec<Label extends string> {
  readonly name: string;
  readonly help: string;
  /**
   * Bounded values only (an outcome, a backend kind, a status class): prom-client keeps every label set it has seen
   * for the process's life, so a pod name or uid here would grow without end.
   */
  readonly labelNames?: readonly Label[];
}

export function defineCounter<Label extends string = never>(registry: Registry, spec: MetricSpec<Label>): Counter<Label> {
  return new Counter<Label>({ ...common(registry, spec) });
}

/** `collect` runs on each scrape, for a value read from elsewhere (a queue's depth) rather than kept up to date. */
export function defineGauge<Label extends string = never>(registry: Registry, spec: MetricSpec<Label> & { readonly collect?: (gauge: Gauge<Label>) => void }): Gauge<Label> {
  const { collect } = spec;
  return new Gauge<Label>({ ...common(registry, spec), ...(collect ? { collect(this: Gauge<Label>) { collect(this); } } : {}) });
}

/** `buckets` in seconds, the Prometheus base unit: name a histogram `..._seconds`. */
export function defineHistogram<Label extends string = never>(
  registry: Registry,
  spec: MetricSpec<Label> & { readonly buckets?: readonly number[] },
): Histogram<Label> {
  return new Histogram<Label>({ ...common(registry, spec), ...(spec.buckets ? { buckets: [...spec.buckets] } : {}) });
}

function common<Label extends string>(registry: Registry, spec: MetricSpec<Label>) {
  if (spec.name.startsWith(METRIC_PREFIX)) throw new Error(`metric ${spec.name}: give the name without ${METRIC_PREFIX}`);
  return { name: `${METRIC_PREFIX}${spec.name}`, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] };
}
