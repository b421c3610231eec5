import { isSea } from 'node:sea';
import { currentProgram, startedFromSnapshot } from '../program.ts';
import { VERSION } from '../version.ts';
import type { Outcome, RunContext } from '../run-context.ts';

// Set by scripts/build-bundle.ts; absent when the sources run directly (tests, development).
declare const CMDB_HOOK_BUILD: { commit: string; time: string } | undefined;

/** `cmdb-hook version [--json]`: what is running, for bug reports and image audits. */
export function describeVersion(json: boolean, context: RunContext): Promise<Outcome> {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const build = typeof CMDB_HOOK_BUILD === 'undefined' ? { commit: 'source', time: null } : CMDB_HOOK_BUILD;
  const kind = isSea() ? 'single executable' : 'bundle';
  if (!json) {
    context.print(`cmdb-hook ${VERSION} (Node ${process.versions.node}, ${kind}, build ${build.commit}${build.time ? ` ${build.time}` : ''})`);
    return Promise.resolve({ summary: `${VERSION}` });
  }
  context.print({
    name: 'cmdb-hook',
    version: VERSION,
    build,
    runtime: { node: process.versions.node, v8: process.versions.v8, singleExecutable: isSea(), startupSnapshot: startedFromSnapshot(), execArgv: process.execArgv, glibc: report.header?.glibcVersionRuntime ?? null },
    platform: `${process.platform}-${process.arch}`,
    program: currentProgram().file,
  });
  return Promise.resolve({ summary: `${VERSION} on Node ${process.versions.node}, ${kind}` });
}
