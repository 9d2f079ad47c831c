import { EnvReader } from '../config';
import { readPubSubSettings, type PubSubSettings } from '../salesforce/pubsub';
import { DEFAULT_TOPIC } from './contract';
import { DEFAULT_CONSUMER_NAME } from './invoicing';

/**
 * Settings of the Fire and Forget subscriber (`npm run subscribe`), from `FIRE_AND_FORGET_*` and the shared
 * `SF_PUBSUB_*` variables (see `.env.example`). The org session itself comes from the shared `SF_*` connection
 * settings through `createSalesforceAuth`. Every bad variable is named in one `ConfigError`.
 */
export interface FireAndForgetConfig {
  readonly pubsub: PubSubSettings;
  /** `FIRE_AND_FORGET_TOPIC`, default `/event/Opportunity_Closed_Won__e`. */
  readonly topic: string;
  /** `FIRE_AND_FORGET_CONSUMER`: the checkpoint's name. */
  readonly consumerName: string;
  /** `FIRE_AND_FORGET_BATCH_SIZE`, 1..100 events requested at a time. */
  readonly batchSize: number;
  /** `FIRE_AND_FORGET_MAX_ATTEMPTS`: attempts at an event before it is dead-lettered. */
  readonly maxAttempts: number;
  /** `FIRE_AND_FORGET_START_FROM`: where a consumer without a checkpoint starts. */
  readonly startFrom: 'LATEST' | 'EARLIEST';
  /** `FIRE_AND_FORGET_WRITEBACK`: send invoice numbers back to the org (off for a demo without one). */
  readonly writeBack: boolean;
  /** `FIRE_AND_FORGET_WRITEBACK_MAX_ATTEMPTS`. */
  readonly writeBackMaxAttempts: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadFireAndForgetConfig(env: Env = process.env): FireAndForgetConfig {
  const reader = new EnvReader(env);
  const pubsub = readPubSubSettings(env, reader.problems);
  const topic = reader.string('FIRE_AND_FORGET_TOPIC') ?? DEFAULT_TOPIC;
  if (!/^\/(event|data)\/[A-Za-z0-9_]+$/.test(topic)) {
    reader.problems.push(`FIRE_AND_FORGET_TOPIC must look like /event/Name__e, got "${topic}"`);
  }
  const consumerName = reader.string('FIRE_AND_FORGET_CONSUMER') ?? DEFAULT_CONSUMER_NAME;
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(consumerName)) {
    reader.problems.push(
      `FIRE_AND_FORGET_CONSUMER must be 1-64 lower-case letters, digits, ".", "_" or "-", got "${consumerName}"`
    );
  }
  const config: FireAndForgetConfig = {
    pubsub,
    topic,
    consumerName,
    batchSize: reader.integer('FIRE_AND_FORGET_BATCH_SIZE', 100, 1, 100),
    maxAttempts: reader.integer('FIRE_AND_FORGET_MAX_ATTEMPTS', 3, 1, 20),
    startFrom: reader.oneOf(
      'FIRE_AND_FORGET_START_FROM',
      ['EARLIEST', 'LATEST'] as const,
      'EARLIEST'
    ),
    writeBack: reader.boolean('FIRE_AND_FORGET_WRITEBACK', true),
    writeBackMaxAttempts: reader.integer('FIRE_AND_FORGET_WRITEBACK_MAX_ATTEMPTS', 5, 1, 50)
  };
  reader.throwIfInvalid();
  return config;
}
