import { HOOK_OPTIONS } from '../config/options.ts';
import { describeVersion } from '../hooks/version.ts';
import { optionsFor, type CommandModule } from './command.ts';

export const versionCommand: CommandModule = {
  name: 'version',
  describe: 'print the version, runtime and build (--json for a document); --version prints the version alone',
  options: optionsFor('version', HOOK_OPTIONS),
  prepare(argv) {
    const json = argv.json === true;
    return { settings: { timeoutMs: 5000, strict: true, logLevel: 'silent', logFile: undefined }, effective: { json }, run: (context) => describeVersion(json, context) };
  },
};
