import { startupSnapshot } from 'node:v8';
import { run } from './cli/run.ts';
import { warmUp } from './cli/warm-up.ts';
import { EXIT_ONLY, exitProcess } from './cli/exit.ts';
import { markStartedFromSnapshot } from './program.ts';

function main(args: string[]): void {
  // src/cli/exit.ts: what a run whose exit would wait for a stuck name lookup starts again as.
  // eslint-disable-next-line no-restricted-properties
  if (args.length === 2 && args[0] === EXIT_ONLY) process.exit(Number(args[1]));
  // An exit, not exitCode: a socket abandoned at the deadline must not keep the hook (and the pod) waiting. Logs
  // are written synchronously, so nothing is lost.
  void run(args, process.env).then(exitProcess);
}

if (startupSnapshot.isBuildingSnapshot()) {
  // The single executable is built from a startup snapshot (scripts/build-executable.ts): this branch runs once, at
  // build time, and every run of the executable starts at `main` with the warmed-up heap.
  startupSnapshot.setDeserializeMainFunction(() => {
    markStartedFromSnapshot();
    main(process.argv.slice(2));
  });
  void warmUp();
} else {
  main(process.argv.slice(2));
}
