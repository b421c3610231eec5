import { run } from './cli.ts';

// process.exit, not exitCode: a socket abandoned at the deadline must not keep the hook (and the pod) waiting.
// Logs are written synchronously, so nothing is lost.
// eslint-disable-next-line no-restricted-properties
process.exit(await run(process.argv.slice(2), process.env));
