import { EnvReader, type Env } from '../config';
import { readPubSubSettings, type PubSubSettings } from '../salesforce/pubsub';
import { CONSUMER_NAMES, DEFAULT_TOPIC, type ConsumerName } from './contract';

/**
 * Settings of the Event-Driven Architecture subscribers (`npm run event-driven:subscribe`), from `EVENT_DRIVEN_*` and
 * the shared `SF_PUBSUB_*` variables (see `.env.example`). The org session comes from the shared `SF_*` settings.
 * Every bad variable is named in one `ConfigError`.
 */
export interface EventDrivenConfig {
  readonly pubsub: PubSubSettings;
  /** `EVENT_DRIVEN_TOPIC`, default `/data/ERP_Customer_Changes__chn`. */
  readonly topic: string;
  /**
   * `EVENT_DRIVEN_CONSUMERS`: which consumers this process runs (comma-separated), default all three. Run one per
   * process when a consumer's code could block the event loop (a synchronous hang stalls every consumer of a process).
   */
  readonly consumers: readonly ConsumerName[];
  /** `EVENT_DRIVEN_BATCH_SIZE`, 1..100 events requested at a time per consumer. */
  readonly batchSize: number;
  /** `EVENT_DRIVEN_MAX_ATTEMPTS`: attempts at an event before it is dead-lettered. */
  readonly maxAttempts: number;
  /** `EVENT_DRIVEN_RETRY_BACKOFF_MS`: first wait before retrying a failed event (doubles per attempt). */
  readonly retryBackoffMs: number;
  /** `EVENT_DRIVEN_PREPARE_TIMEOUT_MS`: deadline of a consumer's asynchronous step (the REST re-read). */
  readonly prepareTimeoutMs: number;
  /** `EVENT_DRIVEN_START_FROM`: where a consumer without a checkpoint starts. */
  readonly startFrom: 'LATEST' | 'EARLIEST';
}

export function loadEventDrivenConfig(env: Env = process.env): EventDrivenConfig {
  const reader = new EnvReader(env);
  const pubsub = readPubSubSettings(env, reader.problems);
  const topic = reader.string('EVENT_DRIVEN_TOPIC') ?? DEFAULT_TOPIC;
  if (!/^\/data\/[A-Za-z0-9_]+$/.test(topic)) {
    reader.problems.push(
      `EVENT_DRIVEN_TOPIC must be a change event channel such as ${DEFAULT_TOPIC}, got "${topic}"`
    );
  }
  const listed = (reader.string('EVENT_DRIVEN_CONSUMERS') ?? CONSUMER_NAMES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = listed.filter((name) => !(CONSUMER_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || listed.length === 0) {
    reader.problems.push(
      `EVENT_DRIVEN_CONSUMERS must list some of ${CONSUMER_NAMES.join(', ')}, got "${listed.join(',')}"`
    );
  }
  const config: EventDrivenConfig = {
    pubsub,
    topic,
    consumers: CONSUMER_NAMES.filter((name) => listed.includes(name)),
    batchSize: reader.integer('EVENT_DRIVEN_BATCH_SIZE', 50, 1, 100),
    maxAttempts: reader.integer('EVENT_DRIVEN_MAX_ATTEMPTS', 4, 1, 20),
    retryBackoffMs: reader.integer('EVENT_DRIVEN_RETRY_BACKOFF_MS', 1_000, 0, 600_000),
    prepareTimeoutMs: reader.integer('EVENT_DRIVEN_PREPARE_TIMEOUT_MS', 10_000, 100, 120_000),
    startFrom: reader.oneOf('EVENT_DRIVEN_START_FROM', ['EARLIEST', 'LATEST'] as const, 'EARLIEST')
  };
  reader.throwIfInvalid();
  return config;
}
