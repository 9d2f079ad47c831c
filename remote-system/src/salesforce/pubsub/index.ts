/**
 * General Pub/Sub API subscriber machinery, shared by every pattern that consumes Salesforce events (fire-and-forget,
 * event-driven, ui-update): a gRPC connection over the official proto, a schema cache, a resilient subscriber that
 * runs one {@link EventConsumer} per subscription, the durable checkpoint, processed-event and dead-letter stores, and
 * the Change Data Capture decoding (header, changed / nulled / diff field bitmaps, gap and overflow events).
 */
export {
  CHANGE_TYPES,
  ChangeEventError,
  decodeFieldBitmap,
  encodeFieldBitmap,
  isChangeEventPayload,
  readChangeEvent
} from './change-events';
export type { ChangeEvent, ChangeEventHeader, ChangeType } from './change-events';
export { DEFAULT_PUBSUB_ENDPOINT, PubSubConnection, isAuthError, tenantIdOf } from './connection';
export type { PubSubConnectionOptions } from './connection';
export { PUBSUB_PROTO_PATH, loadPubSubPackage, replayIdFromHex, replayIdToHex } from './proto';
export type { FetchRequest, FetchResponse, ReplayPreset } from './proto';
export { readPubSubSettings } from './settings';
export type { PubSubSettings } from './settings';
export { CheckpointStore, DeadLetterStore, ProcessedEvents } from './store';
export type { Checkpoint, DeadLetter, NewDeadLetter, ProcessedOutcome } from './store';
export {
  DeadLetterError,
  MAX_NUM_REQUESTED,
  PubSubSubscriber,
  replayDeadLetter,
  replayDeadLetterAsync
} from './subscriber';
export type {
  DecodedEvent,
  EventConsumer,
  HandleOutcome,
  SubscriberNotification,
  SubscriberOptions,
  SubscriberStats
} from './subscriber';
export { startBackgroundCheckpoints } from './wal-checkpoints';
export type { BackgroundCheckpoints } from './wal-checkpoints';
export {
  GRPC_MAX_MESSAGE_BYTES,
  MAX_EVENT_BYTES,
  MAX_EVENTS_PER_PUBLISH,
  PubSubPublisher,
  PUBLISH_STREAM_IDLE_MS,
  RECOMMENDED_PUBLISH_BYTES,
  planBatches
} from './publisher';
export type {
  PublishInput,
  PublishOutcome,
  PublisherNotification,
  PublisherOptions,
  PublisherStats
} from './publisher';
