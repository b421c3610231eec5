import amqp from 'amqplib';
import { ConfigError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { settingName } from '../../settings/option.ts';
import { BrokerUnavailableError } from '../broker-errors.ts';
import { amqpReason, certificateFailure, isAccessRefused } from './amqp-errors.ts';
import type { AmqpEndpoint } from './amqp-settings.ts';

type Model = amqp.ChannelModel;

// A quorum queue without a leader never answers a consume (RabbitMQ 3.10.8 brings one back so when it was killed
// within about a second of the queue's declaration): amqplib would wait on that setup forever and never reconnect. Past this, the connection is dropped and tried anew.
const SETUP_WITHIN_MS = 30_000;
/** Work to redo on every (re)connection, such as a consumer's channel: amqplib recovers the connection only. */
export type ConnectionHook = (model: Model) => Promise<void>;

/**
 * One connection to the broker that comes back by itself (amqplib's opt-in recovery, 1.1.0+): after the broker
 * restarts or the network drops, it reconnects with backoff (100 ms doubling to 5 s, jittered) and reruns the hooks,
 * because channels and consumers die with the old connection. Waiting for it always obeys the caller's signal.
 * A refused login or certificate is no outage: it ends the connection with one config error instead of retrying
 * forever.
 */
export class AmqpConnection {
  readonly #endpoint: AmqpEndpoint;
  readonly #logger: Logger;
  readonly #hooks = new Set<ConnectionHook>();
  // Which hooks already ran on which connection: a hook runs during setup, and again on 'connect' in case it was
  // added while setup was under way; never twice on one connection.
  readonly #ran = new WeakMap<Model, Set<ConnectionHook>>();
  #recovering: Promise<amqp.RecoveringChannelModel> | undefined;
  #current: Model | undefined;
  #failure: Error | undefined;
  #closed = false;
  #down = false;
  #rejectFailed: (error: Error) => void = () => {};
  readonly #failed = new Promise<never>((_, reject) => {
    this.#rejectFailed = reject;
  });

  constructor(endpoint: AmqpEndpoint, logger: Logger) {
    this.#endpoint = endpoint;
    this.#logger = logger;
    this.#failed.catch(() => {});
  }

  /** Connects (once), waiting for the broker as long as the signal allows. */
  async ready(signal: AbortSignal): Promise<void> {
    await this.#within(this.#open().then((model) => model.waitForConnect()), signal, 'connecting');
  }

  /** A new channel on the live connection, waiting for one as long as the signal allows. */
  channel(signal: AbortSignal): Promise<amqp.Channel> {
    return this.#within(this.#open().then((model) => model.createChannel()), signal, 'opening a channel');
  }

  confirmChannel(signal: AbortSignal): Promise<amqp.ConfirmChannel> {
    return this.#within(this.#open().then((model) => model.createConfirmChannel()), signal, 'opening a confirm channel');
  }

  /** Rejects once the connection ended for good (a refused login, a conflicting declare); never resolves. */
  failed(): Promise<never> {
    return this.#failed;
  }

  /** Runs `hook` on the live connection now (if any) and on every later one; returns how to stop that. */
  onEachConnection(hook: ConnectionHook): () => void {
    this.#hooks.add(hook);
    if (this.#current) void this.#run(hook, this.#current).catch((error: unknown) => this.#hookFailed(error));
    return () => this.#hooks.delete(hook);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#hooks.clear();
    const recovering = await this.#recovering?.catch(() => undefined);
    await recovering?.close();
  }

  #open(): Promise<amqp.RecoveringChannelModel> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new BrokerUnavailableError(`the connection to ${this.#endpoint.shown} is closed`));
    if (this.#recovering) return this.#recovering;
    const { protocol, hostname, port, vhost, username, password, ca } = this.#endpoint;
    this.#recovering = amqp.connect(
      // A small heartbeat finds a broker that vanished without closing the socket; until then confirms stay pending.
      { protocol, hostname, port, vhost, username, password, heartbeat: 10 },
      {
        ...(ca === undefined ? {} : { ca: [ca] }),
        timeout: 10_000,
        clientProperties: { connection_name: 'cmdb-hook' },
        recovery: {
          initialDelay: 100,
          maxDelay: 5000,
          // Resolves at once; the first attempt waits for a setImmediate, so the listeners see it.
          waitForConnect: false,
          setup: async (model: Model) => {
            // Each hook opens its own channel on the new connection; one failing makes amqplib try again later,
            // unless it is a mistake no retry mends (a conflicting declare): that ends the connection for good.
            try {
              for (const hook of [...this.#hooks]) await withinTime(this.#run(hook, model), SETUP_WITHIN_MS);
            } catch (error) {
              if (error instanceof ConfigError) this.#fail(error);
              else this.#logger.warn({ broker: this.#endpoint.shown, reason: amqpReason(error) }, 'could not resume work on the new connection; trying again');
              throw error;
            }
          },
        },
      },
    ).then((model) => this.#adopt(model));
    return this.#recovering;
  }

  #adopt(model: amqp.RecoveringChannelModel): amqp.RecoveringChannelModel {
    model.on('connect', (connection: Model) => {
      this.#current = connection;
      if (this.#down) this.#logger.info({ broker: this.#endpoint.shown }, 'reconnected to the broker');
      this.#down = false;
      for (const hook of [...this.#hooks]) void this.#run(hook, connection).catch((error: unknown) => this.#hookFailed(error));
    });
    model.on('disconnect', (error: Error) => {
      this.#current = undefined;
      this.#down = true;
      this.#logger.warn({ broker: this.#endpoint.shown, reason: amqpReason(error) }, 'lost the connection to the broker; reconnecting');
    });
    model.on('connect-failed', (error: Error) => {
      if (isAccessRefused(error)) {
        this.#fail(new ConfigError(
          `${this.#endpoint.shown} refused the login of user ${JSON.stringify(this.#endpoint.username)}: ${amqpReason(error)}; check the user in ${settingName('amqp-url')} and the password in ${settingName('amqp-password-file')}`,
          { cause: error },
        ));
        return;
      }
      const certificate = certificateFailure(error);
      if (certificate) {
        this.#fail(new ConfigError(
          `${this.#endpoint.shown}: the broker's certificate was not accepted (${certificate}); check ${settingName('amqp-ca-file')} and the host name in ${settingName('amqp-url')}`,
          { cause: error },
        ));
        return;
      }
      if (this.#failure) return;
      this.#logger.debug({ broker: this.#endpoint.shown, reason: amqpReason(error) }, 'cannot connect to the broker yet');
    });
    // A broker short of memory or disk blocks publishers: confirms then wait, which these lines explain.
    model.on('blocked', (reason: string) => this.#logger.warn({ broker: this.#endpoint.shown, reason }, 'the broker blocks publishing'));
    model.on('unblocked', () => this.#logger.info({ broker: this.#endpoint.shown }, 'the broker takes messages again'));
    // Connection-level errors also close it, which 'disconnect' reports; without a listener they would crash.
    model.on('error', () => {});
    return model;
  }

  async #run(hook: ConnectionHook, model: Model): Promise<void> {
    let ran = this.#ran.get(model);
    if (!ran) this.#ran.set(model, (ran = new Set()));
    if (ran.has(hook) || !this.#hooks.has(hook)) return;
    ran.add(hook);
    try {
      await hook(model);
    } catch (error) {
      ran.delete(hook);
      throw error;
    }
  }

  /** Ends the connection for good: every wait, and failed(), rejects with `error`. */
  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#rejectFailed(error);
    void this.#recovering?.then((model) => model.close()).catch(() => {});
  }

  #hookFailed(error: unknown): void {
    if (error instanceof ConfigError) return this.#fail(error);
    this.#logger.warn({ broker: this.#endpoint.shown, reason: amqpReason(error) }, 'could not resume work on the new connection; closing it to try again');
    void this.#current?.close().catch(() => {});
  }

  /** The promise, or the caller's abort, or the login refusal, whichever comes first. */
  async #within<T>(work: Promise<T>, signal: AbortSignal, doing: string): Promise<T> {
    work.catch(() => {});
    const late = () => this.#failure ?? new BrokerUnavailableError(`${doing} to ${this.#endpoint.shown} did not finish in time; is the broker up?`, { cause: signal.reason });
    if (signal.aborted) throw late();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(late());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, aborted, this.#failed]);
    } catch (error) {
      if (this.#failure) throw this.#failure;
      throw error;
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}

function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerUnavailableError(`the broker did not answer within ${ms} ms while work resumed on a new connection`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
