import { EXIT_CODES, HookError } from '../../errors.ts';

/**
 * The broker could not be reached, or did not take a message (a nack, an unroutable return, a channel or connection
 * lost before its confirm): another attempt may succeed. Not forgiven, even without --strict: a publisher or consumer
 * that cannot reach its broker has done nothing, and a CronJob or probe must see it.
 */
export class BrokerUnavailableError extends HookError {
  static override readonly code = 'ERR_BROKER_UNAVAILABLE';
  override readonly name = 'BrokerUnavailableError';
  readonly code = 'ERR_BROKER_UNAVAILABLE';
  readonly exitCode = EXIT_CODES.cmdbUnavailable;
  readonly failOpen = false;
  override readonly transient = true;
}

/** The text of an AMQP close (`<code> (<NAME>) with message "<text>"`), which amqplib puts in its errors' messages. */
export function amqpReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^(?:Operation failed|Handshake terminated by server|Connection closed|Channel closed by server):\s*/, '');
}

/** Whether the broker refused the login (403 ACCESS_REFUSED on the handshake), which no retry mends. */
export function isAccessRefused(error: unknown): boolean {
  return error instanceof Error && /\b403\b.*ACCESS[-_]REFUSED/.test(error.message);
}

/** Whether a declare found the name taken with other settings (406 PRECONDITION_FAILED, "inequivalent arg"). */
export function isPreconditionFailed(error: unknown): boolean {
  return error instanceof Error && /\b406\b.*PRECONDITION[-_]FAILED/.test(error.message);
}

// Certificate checks that fail (wrong CA, wrong host name, expired): a mistake in the settings that no retry mends.
const TLS_CERTIFICATE_CODES = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT|HOSTNAME/;

/** The code of a failed certificate check, if that is why the connection failed. */
export function certificateFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && TLS_CERTIFICATE_CODES.test(code) ? code : undefined;
}
