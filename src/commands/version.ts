import { describeVersion } from '../lifecycle/version.ts';
import type { CommandModule } from './command.ts';

export const versionCommand: CommandModule = {
  name: 'version',
  describe: 'print the version, runtime and build (--json for a document); --version prints the version alone',
  prepare(argv) {
    const json = argv.json === true;
    return { settings: { timeoutMs: 5000, strict: true, logLevel: 'silent', logFile: undefined }, run: (context) => describeVersion(json, context) };
  },
};
