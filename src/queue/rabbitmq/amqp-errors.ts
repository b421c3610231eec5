/**
 * How amqplib's errors read, for the RabbitMQ transport. What they mean for the caller (another attempt may succeed,
 * or not) is broker-errors.ts's, shared with NATS: an outage is its BrokerUnavailableError, never fail-open.
 */

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
