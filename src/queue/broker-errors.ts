/**
 * What can go wrong with a message broker, for either transport. Neither fails open: the queue modes are
 * long-running (or `--once`, which never fails open), and a message the broker did not confirm was not sent.
 */
import { EXIT_CODES, HookError } from '../errors.ts';

/** The broker could not be reached or did not confirm in time; another attempt may succeed. */
export class BrokerUnavailableError extends HookError {
  static override readonly code = 'ERR_BROKER_UNAVAILABLE';
  override readonly name = 'BrokerUnavailableError';
  readonly code = 'ERR_BROKER_UNAVAILABLE';
  readonly exitCode = EXIT_CODES.cmdbUnavailable;
  readonly failOpen = false;
  override readonly transient = true;
}

/** The broker refused for good (a message over its size limit, a stream that no longer matches what was declared). */
export class BrokerRejectedError extends HookError {
  static override readonly code = 'ERR_BROKER_REJECTED';
  override readonly name = 'BrokerRejectedError';
  readonly code = 'ERR_BROKER_REJECTED';
  readonly exitCode = EXIT_CODES.cmdbRejected;
  readonly failOpen = false;
}
