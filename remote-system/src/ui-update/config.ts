import { EnvReader, type Env } from '../config';
import {
  MAX_EVENTS_PER_PUBLISH,
  RECOMMENDED_PUBLISH_BYTES,
  readPubSubSettings,
  type PubSubSettings
} from '../salesforce/pubsub';
import { DEFAULT_TOPIC } from './contract';

/**
 * Settings of the shipment simulator and its publisher, from `UI_UPDATE_*` and the shared `SF_PUBSUB_*` variables
 * (see `.env.example`). The org session comes from the shared `SF_*` connection settings. Every bad variable is named
 * in one `ConfigError`.
 */
export interface UiUpdateConfig {
  readonly pubsub: PubSubSettings;
  /** `UI_UPDATE_TOPIC`, default `/event/Shipment_Status_Changed__e`. */
  readonly topic: string;
  /** `UI_UPDATE_RATE`: status changes per second when the simulator runs (0..1000, default 1). */
  readonly ratePerSecond: number;
  /** `UI_UPDATE_AUTOSTART`: start the simulator with the server (default false: start it from the console). */
  readonly autostart: boolean;
  /** `UI_UPDATE_TRANSPORT`: `stream` (PublishStream, default) or `unary` (Publish). */
  readonly transport: 'stream' | 'unary';
  /** `UI_UPDATE_BATCH_SIZE`: events per PublishRequest, 1..200 (default 200). */
  readonly batchSize: number;
  /** `UI_UPDATE_MAX_REQUEST_BYTES`: bytes per PublishRequest, up to 3 MB (the default). */
  readonly maxRequestBytes: number;
  /** `UI_UPDATE_MAX_ATTEMPTS`: attempts per event before it is reported failed (default 5). */
  readonly maxAttempts: number;
}

export function loadUiUpdateConfig(env: Env = process.env): UiUpdateConfig {
  const reader = new EnvReader(env);
  const pubsub = readPubSubSettings(env, reader.problems);
  const topic = reader.string('UI_UPDATE_TOPIC') ?? DEFAULT_TOPIC;
  if (!/^\/event\/[A-Za-z0-9_]+__e$/.test(topic)) {
    reader.problems.push(`UI_UPDATE_TOPIC must look like /event/Name__e, got "${topic}"`);
  }
  const config: UiUpdateConfig = {
    pubsub,
    topic,
    ratePerSecond: reader.integer('UI_UPDATE_RATE', 1, 0, 1000),
    autostart: reader.boolean('UI_UPDATE_AUTOSTART', false),
    transport: reader.oneOf('UI_UPDATE_TRANSPORT', ['stream', 'unary'] as const, 'stream'),
    batchSize: reader.integer(
      'UI_UPDATE_BATCH_SIZE',
      MAX_EVENTS_PER_PUBLISH,
      1,
      MAX_EVENTS_PER_PUBLISH
    ),
    maxRequestBytes: reader.integer(
      'UI_UPDATE_MAX_REQUEST_BYTES',
      RECOMMENDED_PUBLISH_BYTES,
      1024,
      RECOMMENDED_PUBLISH_BYTES
    ),
    maxAttempts: reader.integer('UI_UPDATE_MAX_ATTEMPTS', 5, 1, 20)
  };
  reader.throwIfInvalid();
  return config;
}
