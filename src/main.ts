import { startupSnapshot } from 'node:v8';
import { run, warmUp } from './cli.ts';
import { markStartedFromSnapshot } from './program.ts';

function main(args: string[]): void {
  // process.exit, not exitCode: a socket abandoned at the deadline must not keep the hook (and the pod) waiting.
  // Logs are written synchronously, so nothing is lost.
  // eslint-disable-next-line no-restricted-properties
  void run(args, process.env).then((code) => process.exit(code));
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
