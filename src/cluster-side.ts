/**
 * What the long-running modes' commands reach with a dynamic import: the entry of the second
 * bundle (src/cluster-bundle.ts), and nothing a hook run loads.
 */
export { runController } from './cluster/controller.ts';
export { runPublisher } from './queue/publish/run-publisher.ts';
export { runConsume } from './queue/consume/run-consume.ts';
