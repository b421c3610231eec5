import { isSea } from 'node:sea';

/**
 * The arguments that make the single executable exit at once with the code after them (src/main.ts): what a run
 * becomes when its own exit would wait for a stuck name lookup. Not a flag: no user needs it.
 */
export const EXIT_ONLY = '__exit-with-code';

/**
 * Ends the process with `code`, even when a name lookup is stuck in the C library.
 *
 * Node resolves names with getaddrinfo on libuv's thread pool, and its exit joins that pool (uv_library_shutdown).
 * getaddrinfo cannot be cancelled: with a DNS server that never answers, glibc waits 5 s per server and try, for
 * each name of the search list, so an exit would wait with it after the run printed its summary on time (10 s
 * for one silent nameserver, 20 s with a pod's resolv.conf of three search domains and ndots:5). So when a lookup is
 * still pending, the process replaces itself (execve, which runs no exit handler and joins no thread) with a fresh start of its own runtime that only exits with the same code: the
 * kubelet sees the same process end with the right code, about a runtime start-up (0.1 to 0.3 s) after the summary.
 *
 * The other way, a lookup of our own over c-ares (node:dns Resolver, which runs on the event loop and can be
 * cancelled), would have had to re-implement what the C library does: /etc/hosts, resolv.conf's search list and
 * ndots, nsswitch.conf's order, address sorting, on glibc and musl images alike, and would cover only the CMDB's
 * requests, not every lookup of the run. This keeps the system's resolver, and its behaviour, unchanged.
 */
export function exitProcess(code: number): void {
  if (process.getActiveResourcesInfo().includes('GetAddrInfoReqWrap')) {
    // The bundle runs on a node binary, which takes -e; the single executable runs only its own program, which
    // takes EXIT_ONLY. An empty environment: the app container's NODE_OPTIONS must not load anything.
    const argv = isSea() ? [process.execPath, EXIT_ONLY, String(code)] : [process.execPath, '-e', `process.exit(${code})`];
    try {
      process.execve?.(process.execPath, argv, {});
    } catch {
      // execve refused (a seccomp profile, a runtime deleted under us): exit the usual way, late but with the code.
    }
  }
  // eslint-disable-next-line no-restricted-properties
  process.exit(code);
}
