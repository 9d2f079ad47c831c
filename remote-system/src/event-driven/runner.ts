import type Database from 'better-sqlite3';
import type { SalesforceAuth } from '../salesforce/auth';
import {
  PubSubConnection,
  PubSubSubscriber,
  replayDeadLetterAsync,
  type SubscriberNotification
} from '../salesforce/pubsub';
import type { EventDrivenConfig } from './config';
import { createConsumers } from './consumers';
import type { ConsumerName } from './contract';
import { AccountReader } from './records';

export interface EventDrivenSubscribersOptions {
  readonly config: EventDrivenConfig;
  readonly db: Database.Database;
  readonly auth: SalesforceAuth;
  /** Session for the REST re-reads; default `auth` (one org session serves both APIs). */
  readonly restAuth?: SalesforceAuth;
  readonly fetch?: typeof fetch;
  readonly onNotify?: (consumer: ConsumerName, notification: SubscriberNotification) => void;
  /** How often replay requests from the console are picked up. Default 2 s. */
  readonly replayPollMs?: number;
  /** Reconnect backoff passed through (tests shorten it). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface EventDrivenSubscribers {
  readonly subscribers: ReadonlyMap<ConsumerName, PubSubSubscriber>;
  /** Runs the pending replay requests now (also runs on a timer). */
  runReplayRequests(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the configured consumers in this process: one Pub/Sub connection (one gRPC channel, one stream per consumer),
 * one {@link PubSubSubscriber} per consumer. Their streams, flow control, retries, backoff and dead letters are
 * separate: a consumer that fails or waits requests no more events, while the others keep requesting theirs. Replays
 * of dead letters asked for in the console (`event_driven_replay_requests`) run here, where the schema and the REST
 * reader are.
 */
export function startEventDrivenSubscribers(
  options: EventDrivenSubscribersOptions
): EventDrivenSubscribers {
  const { config, db, auth } = options;
  const connection = new PubSubConnection({
    endpoint: config.pubsub.endpoint,
    ...(config.pubsub.caPem ? { caPem: config.pubsub.caPem } : {}),
    auth
  });
  const reader = new AccountReader({
    auth: options.restAuth ?? auth,
    ...(options.fetch ? { fetch: options.fetch } : {})
  });
  const consumers = createConsumers({
    topic: config.topic,
    startFrom: config.startFrom,
    db,
    reader
  });
  const subscribers = new Map<ConsumerName, PubSubSubscriber>();
  for (const name of config.consumers) {
    const subscriber = new PubSubSubscriber({
      connection,
      db,
      consumer: consumers[name],
      batchSize: config.batchSize,
      maxAttempts: config.maxAttempts,
      retryBackoffMs: config.retryBackoffMs,
      prepareTimeoutMs: config.prepareTimeoutMs,
      ...(options.initialBackoffMs !== undefined
        ? { initialBackoffMs: options.initialBackoffMs }
        : {}),
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
      onNotify: (notification) => options.onNotify?.(name, notification)
    });
    subscribers.set(name, subscriber);
  }

  let replaying: Promise<number> | undefined;
  const runReplayRequests = (): Promise<number> => {
    replaying ??= (async () => {
      const pending = db
        .prepare(
          'SELECT dead_letter_id AS id, consumer FROM event_driven_replay_requests WHERE done_at IS NULL ORDER BY requested_at'
        )
        .all() as { id: number; consumer: ConsumerName }[];
      let done = 0;
      for (const request of pending) {
        if (!config.consumers.includes(request.consumer)) continue;
        let outcome = 'failed';
        let error: string | null = null;
        try {
          const result = await replayDeadLetterAsync(db, consumers[request.consumer], request.id, {
            schema: (schemaId) => connection.schema(schemaId),
            prepareTimeoutMs: config.prepareTimeoutMs
          });
          outcome = result.outcome;
        } catch (caught) {
          error = caught instanceof Error ? caught.message : String(caught);
        }
        db.prepare(
          'UPDATE event_driven_replay_requests SET outcome = ?, error = ?, done_at = ? WHERE dead_letter_id = ?'
        ).run(outcome, error, new Date().toISOString(), request.id);
        done += 1;
      }
      return done;
    })().finally(() => {
      replaying = undefined;
    });
    return replaying;
  };
  const timer = setInterval(() => void runReplayRequests(), options.replayPollMs ?? 2_000);
  timer.unref();
  for (const subscriber of subscribers.values()) subscriber.start();

  return {
    subscribers,
    runReplayRequests,
    async stop() {
      clearInterval(timer);
      await Promise.all([...subscribers.values()].map((subscriber) => subscriber.stop()));
      await replaying;
      connection.close();
    }
  };
}
