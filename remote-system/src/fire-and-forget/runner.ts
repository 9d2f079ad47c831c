import type Database from 'better-sqlite3';
import type { SalesforceAuth } from '../salesforce/auth';
import {
  PubSubConnection,
  PubSubSubscriber,
  startBackgroundCheckpoints,
  type BackgroundCheckpoints,
  type EventConsumer,
  type SubscriberNotification
} from '../salesforce/pubsub';
import type { FireAndForgetConfig } from './config';
import { createInvoiceConsumer } from './invoicing';
import { InvoiceWriteBack, type WriteBackResult } from './writeback';

export interface InvoiceSubscriberOptions {
  readonly config: FireAndForgetConfig;
  readonly db: Database.Database;
  readonly auth: SalesforceAuth;
  /** Session for the REST write-back; default `auth` (the same org session serves both APIs). */
  readonly writeBackAuth?: SalesforceAuth;
  readonly onNotify?: (notification: SubscriberNotification) => void;
  readonly onWriteBack?: (result: WriteBackResult) => void;
  /** Replaces the invoicing consumer (tests wrap it to stop a process at a chosen moment). */
  readonly consumer?: EventConsumer;
  /** How often due write-back retries are sent when no batch triggers a send. Default 5 s. */
  readonly writeBackIntervalMs?: number;
  readonly fetch?: typeof fetch;
  /** Subscriber tuning passed through (tests shorten the backoff). */
  readonly initialBackoffMs?: number;
  readonly idleTimeoutMs?: number;
  /**
   * WAL checkpoints on a worker thread instead of in the commits of the event loop (see `wal-checkpoints.ts`).
   * Default true; a no-op for an in-memory database.
   */
  readonly backgroundCheckpoints?: boolean;
}

export interface InvoiceSubscriber {
  readonly subscriber: PubSubSubscriber;
  readonly writeBack?: InvoiceWriteBack;
  readonly checkpoints?: BackgroundCheckpoints;
  /** Sends due write-backs now (also runs after every committed batch). */
  flushWriteBacks(): Promise<WriteBackResult | undefined>;
  stop(): Promise<void>;
}

/**
 * Wires the Fire and Forget subscriber: one Pub/Sub connection, the invoicing consumer on the shared subscriber
 * machinery, the write-back outbox drained after each committed batch and on a timer (for retries), and the
 * database's WAL checkpoints on a worker thread.
 */
export function startInvoiceSubscriber(options: InvoiceSubscriberOptions): InvoiceSubscriber {
  const { config, db, auth } = options;
  const connection = new PubSubConnection({
    endpoint: config.pubsub.endpoint,
    ...(config.pubsub.caPem ? { caPem: config.pubsub.caPem } : {}),
    auth
  });
  const writeBack = config.writeBack
    ? new InvoiceWriteBack({
        db,
        auth: options.writeBackAuth ?? auth,
        maxAttempts: config.writeBackMaxAttempts,
        ...(options.fetch ? { fetch: options.fetch } : {})
      })
    : undefined;

  let draining: Promise<WriteBackResult | undefined> | undefined;
  let again = false;
  const flush = (): Promise<WriteBackResult | undefined> => {
    if (!writeBack) return Promise.resolve(undefined);
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      let last: WriteBackResult | undefined;
      do {
        again = false;
        last = await writeBack.drain();
        if (last.sent > 0) options.onWriteBack?.(last);
      } while (again);
      return last;
    })().finally(() => {
      draining = undefined;
    });
    return draining;
  };

  const subscriber = new PubSubSubscriber({
    connection,
    db,
    consumer:
      options.consumer ??
      createInvoiceConsumer({
        name: config.consumerName,
        topic: config.topic,
        startFrom: config.startFrom
      }),
    batchSize: config.batchSize,
    maxAttempts: config.maxAttempts,
    ...(options.initialBackoffMs !== undefined
      ? { initialBackoffMs: options.initialBackoffMs }
      : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    onNotify: (notification) => {
      options.onNotify?.(notification);
      if (notification.kind === 'batch') void flush();
    }
  });
  const timer = setInterval(() => void flush(), options.writeBackIntervalMs ?? 5_000);
  timer.unref();
  const checkpoints =
    options.backgroundCheckpoints === false ? undefined : startBackgroundCheckpoints(db);
  subscriber.start();

  return {
    subscriber,
    ...(writeBack ? { writeBack } : {}),
    ...(checkpoints ? { checkpoints } : {}),
    flushWriteBacks: flush,
    async stop() {
      clearInterval(timer);
      await subscriber.stop();
      await draining;
      await checkpoints?.stop();
      connection.close();
    }
  };
}
