/**
 * V8's defaults suit a process that wants speed over memory: the young generation grows to 16 MiB semi-spaces, and
 * after a full collection the old generation may grow up to 4x what survived before the next one. The controller
 * keeps ~30 MB of pods and records but parses a 3.6 MB page of pods at a time and lists every record at each pass:
 * with the defaults its heap grew to 130 MiB for 45 MiB live, and the process peaked at 245 to 280 MiB with 10,000
 * pods (npm run bench). These two flags hold the heap near what is live:
 *   --semi-space-growth-factor=1: the young generation stays at its initial 1 MiB semi-spaces (what the single
 *     executable's --max-semi-space-size=1 already gives);
 *   --heap-growing-percent=20: the next full collection is due at 20% above what the last one kept.
 * Neither is a limit: the heap still grows to whatever the pods need, so no number of pods makes the process run out
 * of memory sooner; the price is more collections (restarts with 10,000 pods, with and without them: ~1.5 s more
 * CPU, /readyz ~0.6 s later).
 * V8 reads both at each collection, so setting them once the process runs works in `node dist/cmdb-hook.cjs` and in
 * the single executable alike, with no flag on the command line (flags read only when the heap is set up, such as
 * --max-semi-space-size, would not take effect here). Only the long-running controller sets them: a hook's heap
 * is small and short-lived.
 */
import { setFlagsFromString } from 'node:v8';

const HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=20'] as const;

export function tuneHeap(): void {
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
}
