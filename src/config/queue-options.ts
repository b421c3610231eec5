import type { OptionSpec } from '../settings/option.ts';

const CONTROLLER = ['controller'];
const CONSUME = ['consume'];
const BOTH = [...CONTROLLER, ...CONSUME];

/**
 * The message-queue path's options: the controller's --sink, consume's --source and their own settings, and the
 * broker's. Secrets and the CA come as file paths only. Names are fixed by the design of the queue path.
 */
export const QUEUE_OPTIONS: readonly OptionSpec[] = [
  { flag: 'sink', type: 'string', commands: CONTROLLER, default: 'cmdb', describe: 'Where the controller sends each transition: cmdb (write the CMDB), nats (publish to NATS JetStream) or rabbitmq (publish to RabbitMQ); with a broker no CMDB flags are needed.' },
  { flag: 'source', type: 'string', commands: CONSUME, default: 'nats', describe: 'Where consume takes the transitions from: nats (NATS JetStream) or rabbitmq (RabbitMQ).' },
  { flag: 'concurrency', type: 'string', commands: CONSUME, default: '4', describe: 'Messages applied at once, at most (one record\'s are still applied latest-wins).' },
  { flag: 'nats-url', type: 'string', commands: BOTH, describe: 'NATS server(s), nats://host:port, comma-separated; no credentials in it. Required with --sink nats or --source nats.' },
  { flag: 'nats-token-file', type: 'string', commands: BOTH, describe: 'File holding the NATS token, read again at every reconnect.' },
  { flag: 'nats-creds-file', type: 'string', commands: BOTH, describe: 'NATS credentials file (user JWT and nkey seed); not with --nats-token-file.' },
  { flag: 'nats-ca-file', type: 'string', commands: BOTH, describe: 'PEM file of the CA(s) the NATS server\'s TLS certificate is checked against.' },
  { flag: 'nats-stream', type: 'string', commands: BOTH, default: 'CMDB_HOOK', describe: 'JetStream stream, created when missing with subjects cmdb-hook.<cluster>.> and a 10 min duplicate window.' },
  { flag: 'nats-consumer', type: 'string', commands: BOTH, default: 'cmdb-hook', describe: 'Durable JetStream pull consumer, created when missing; consumers sharing it share the work.' },
  { flag: 'amqp-url', type: 'string', commands: BOTH, describe: 'RabbitMQ broker, amqp[s]://user@host:port/vhost; never a password in it. Required with --sink rabbitmq or --source rabbitmq.' },
  { flag: 'amqp-password-file', type: 'string', commands: BOTH, describe: 'File holding the password of the --amqp-url user.' },
  { flag: 'amqp-ca-file', type: 'string', commands: BOTH, describe: 'PEM file of the CA(s) the broker\'s TLS certificate is checked against (amqps only).' },
  { flag: 'amqp-exchange', type: 'string', commands: BOTH, default: 'cmdb-hook', describe: 'Durable topic exchange the controller publishes to, declared when missing.' },
  { flag: 'amqp-queue', type: 'string', commands: BOTH, default: 'cmdb-hook', describe: 'Quorum queue consumers share (single active consumer), bound to cmdb-hook.<cluster>.#, with <queue>.dead-letter beside it; declared when missing.' },
];
