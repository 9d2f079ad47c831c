import { ConfigError } from '../config';
import { readPubSubSettings, type PubSubSettings } from '../salesforce/pubsub';
import { DEFAULT_TOPIC } from './contract';
import { DEFAULT_CONSUMER_NAME } from './invoicing';

/**
 * Settings of the Fire and Forget subscriber (`npm run subscribe`), from `FIRE_AND_FORGET_*` and the shared
 * `SF_PUBSUB_*` variables (see `.env.example`). The org session itself comes from the shared `SF_*` connection
 * settings through `createSalesforceAuth`. Every bad variable is named in one {@link ConfigError}.
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
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };

  const pubsub = readPubSubSettings(env, problems);
  const topic = read('FIRE_AND_FORGET_TOPIC') ?? DEFAULT_TOPIC;
  if (!/^\/(event|data)\/[A-Za-z0-9_]+$/.test(topic)) {
    problems.push(`FIRE_AND_FORGET_TOPIC must look like /event/Name__e, got "${topic}"`);
  }
  const consumerName = read('FIRE_AND_FORGET_CONSUMER') ?? DEFAULT_CONSUMER_NAME;
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(consumerName)) {
    problems.push(
      `FIRE_AND_FORGET_CONSUMER must be 1-64 lower-case letters, digits, ".", "_" or "-", got "${consumerName}"`
    );
  }
  const batchSize = integer('FIRE_AND_FORGET_BATCH_SIZE', 100, 1, 100);
  const maxAttempts = integer('FIRE_AND_FORGET_MAX_ATTEMPTS', 3, 1, 20);
  const startRaw = (read('FIRE_AND_FORGET_START_FROM') ?? 'EARLIEST').toUpperCase();
  let startFrom: 'LATEST' | 'EARLIEST' = 'EARLIEST';
  if (startRaw === 'LATEST' || startRaw === 'EARLIEST') startFrom = startRaw;
  else problems.push(`FIRE_AND_FORGET_START_FROM must be EARLIEST or LATEST, got "${startRaw}"`);
  const writeBackRaw = (read('FIRE_AND_FORGET_WRITEBACK') ?? 'true').toLowerCase();
  if (writeBackRaw !== 'true' && writeBackRaw !== 'false') {
    problems.push(`FIRE_AND_FORGET_WRITEBACK must be true or false, got "${writeBackRaw}"`);
  }
  const writeBackMaxAttempts = integer('FIRE_AND_FORGET_WRITEBACK_MAX_ATTEMPTS', 5, 1, 50);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    pubsub,
    topic,
    consumerName,
    batchSize,
    maxAttempts,
    startFrom,
    writeBack: writeBackRaw !== 'false',
    writeBackMaxAttempts
  };
}
