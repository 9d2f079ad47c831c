import fs from 'node:fs';
import {
  PubSubConnection,
  PubSubSubscriber,
  type EventConsumer,
  type SubscriberOptions
} from '../../../src/salesforce/pubsub';
import { startPubSubFixture, type PubSubFixture } from '../../fire-and-forget/support';
import type { PubSubStandInOptions } from '../../stand-ins/pubsub-server';

/** One describe block's Pub/Sub stand-in, database, connection and subscribers, fresh for every test. */
export interface SubscriberHarness {
  /** This test's stand-in, auth and database (with a `test_effects` table for the consumers to write). */
  readonly fixture: PubSubFixture;
  /** This test's connection to the stand-in. */
  readonly connection: PubSubConnection;
  /** A subscriber on the connection with short backoffs, started now and stopped after the test. */
  subscriber(consumer: EventConsumer, options?: Partial<SubscriberOptions>): PubSubSubscriber;
  /** Replaces the fixture and connection within a test, with other stand-in options. */
  restart(standIn: Partial<PubSubStandInOptions>): Promise<void>;
}

/** Registers the `beforeEach`/`afterEach` that give every test of the calling describe block a fresh harness. */
export function subscriberHarness(standIn: Partial<PubSubStandInOptions>): SubscriberHarness {
  let fixture: PubSubFixture | undefined;
  let connection: PubSubConnection | undefined;
  const running: PubSubSubscriber[] = [];

  const open = async (options: Partial<PubSubStandInOptions>): Promise<void> => {
    fixture = await startPubSubFixture(options);
    fixture.db.exec('CREATE TABLE test_effects (consumer TEXT, event_id TEXT, correlation TEXT)');
    connection = new PubSubConnection({
      endpoint: fixture.standIn.endpoint,
      caPem: fs.readFileSync(fixture.caFile),
      auth: fixture.auth
    });
  };
  const close = async (): Promise<void> => {
    connection?.close();
    await fixture?.close();
  };

  beforeEach(() => open(standIn));
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await close();
  });

  return {
    get fixture() {
      return fixture!;
    },
    get connection() {
      return connection!;
    },
    subscriber(consumer, options = {}) {
      const created = new PubSubSubscriber({
        connection: connection!,
        db: fixture!.db,
        consumer,
        initialBackoffMs: 20,
        maxBackoffMs: 200,
        ...options
      });
      running.push(created);
      created.start();
      return created;
    },
    async restart(options) {
      await close();
      await open(options);
    }
  };
}
