/**
 * Every failure the agent expects ends as one of these classes. src/cli/run.ts is the one place that turns them into an
 * exit code: usage errors always fail loudly (2); the app's or the CMDB's trouble fails open (0) unless --strict,
 * so a CMDB outage never becomes an app outage. Anything else is a bug (1).
 */
export const EXIT_CODES = {
  ok: 0,
  bug: 1,
  usage: 2,
  notReady: 3,
  cmdbRejected: 4,
  cmdbUnavailable: 5,
} as const;

// The controller's code is a second bundle (src/cluster-bundle.ts) with its own copy of this module, and errors
// cross between the two: a backend's CmdbUnavailableError reaches the work queue, a kubeconfig's ConfigError reaches
// src/cli/run.ts. So `instanceof` checks a brand every copy shares (Symbol.for) and the class's code, not identity.
const BRAND = Symbol.for('cmdb-hook.HookError');

export abstract class HookError extends Error {
  /** The code of every instance of the class; undefined for HookError itself, which matches every branded error. */
  static readonly code: string | undefined = undefined;
  readonly [BRAND] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || (value as { [BRAND]?: unknown })[BRAND] !== true) return false;
    return this.code === undefined || (value as { code?: unknown }).code === this.code;
  }

  abstract readonly code: string;
  /** The exit code when this error is not forgiven: always for usage errors, with --strict for the others. */
  abstract readonly exitCode: number;
  /** Whether the run still exits 0 without --strict. */
  abstract readonly failOpen: boolean;
  /** Whether another attempt may succeed (decided at the CMDB adapter boundary, used by the retry layer). */
  readonly transient: boolean = false;
}

/** A mistake in flags, env vars or mounted files. The message names the flag or env var and what to do. */
export class ConfigError extends HookError {
  static override readonly code = 'ERR_CONFIG';
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
  readonly exitCode = EXIT_CODES.usage;
  readonly failOpen = false;
}

/** The app did not pass its readiness check before the deadline. */
export class NotReadyError extends HookError {
  static override readonly code = 'ERR_NOT_READY';
  override readonly name = 'NotReadyError';
  readonly code = 'ERR_NOT_READY';
  readonly exitCode = EXIT_CODES.notReady;
  readonly failOpen = true;
}

/** The CMDB answered with a permanent refusal (a 3xx, a 4xx other than 408, 425, 429, a 2xx body over its limit), or TLS could not be set up. */
export class CmdbRejectedError extends HookError {
  static override readonly code = 'ERR_CMDB_REJECTED';
  override readonly name = 'CmdbRejectedError';
  readonly code = 'ERR_CMDB_REJECTED';
  readonly exitCode = EXIT_CODES.cmdbRejected;
  readonly failOpen = true;
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
  }
}

/** The CMDB could not be reached or failed transiently; retried until the deadline. */
export class CmdbUnavailableError extends HookError {
  static override readonly code = 'ERR_CMDB_UNAVAILABLE';
  override readonly name = 'CmdbUnavailableError';
  readonly code = 'ERR_CMDB_UNAVAILABLE';
  readonly exitCode = EXIT_CODES.cmdbUnavailable;
  readonly failOpen = true;
  override readonly transient = true;
  readonly status: number | undefined;
  /** Milliseconds the CMDB asked us to wait (Retry-After), if it said so. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The controller could not list the pods (the API server unreachable or failing) before its deadline or stop. */
export class KubeUnavailableError extends HookError {
  static override readonly code = 'ERR_KUBE_UNAVAILABLE';
  override readonly name = 'KubeUnavailableError';
  readonly code = 'ERR_KUBE_UNAVAILABLE';
  readonly exitCode = EXIT_CODES.cmdbUnavailable;
  readonly failOpen = true;
  override readonly transient = true;
}

/** The exit code for an outcome: 0 for success and forgiven failures, the error's own code otherwise. */
export function exitCodeFor(error: unknown, strict: boolean): number {
  if (!(error instanceof HookError)) return EXIT_CODES.bug;
  if (error.failOpen && !strict) return EXIT_CODES.ok;
  return error.exitCode;
}
