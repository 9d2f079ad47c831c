import type Database from 'better-sqlite3';
import {
  DeadLetterStore,
  PubSubSubscriber,
  replayDeadLetter,
  type DecodedEvent,
  type EventConsumer
} from '../../../src/salesforce/pubsub';
import { TOPIC } from '../../fire-and-forget/support';
import { subscriberHarness } from './harness';

/**
 * The general subscriber machinery against the local Pub/Sub API stand-in (TLS, gRPC, real SQLite): a plain consumer
 * that records each event's effect in a table of its own.
 */

function effectsConsumer(
  name: string,
  options: { failOn?: (event: DecodedEvent) => boolean; startFrom?: 'LATEST' | 'EARLIEST' } = {}
): EventConsumer {
  return {
    name,
    topic: TOPIC,
    startFrom: options.startFrom ?? 'EARLIEST',
    handle(event, db) {
      if (options.failOn?.(event))
        throw new Error(`cannot handle ${String(event.payload.Correlation_Id__c)}`);
      db.prepare('INSERT INTO test_effects (consumer, event_id, correlation) VALUES (?, ?, ?)').run(
        name,
        event.id,
        String(event.payload.Correlation_Id__c)
      );
    }
  };
}

function effects(db: Database.Database, consumer: string): string[] {
  return db
    .prepare('SELECT correlation FROM test_effects WHERE consumer = ? ORDER BY rowid')
    .pluck()
    .all(consumer) as string[];
}

function payload(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CreatedDate: 1767225600000 + n,
    CreatedById: '005000000000001AAA',
    Opportunity_Id__c: `006${String(n).padStart(12, '0')}AAA`,
    Account_Id__c: null,
    ERP_Customer_Number__c: 'C-000001',
    Amount__c: n,
    Currency_Iso_Code__c: 'EUR',
    Line_Summary__c: null,
    Line_Count__c: 0,
    Correlation_Id__c: `e${n}`,
    ...extra
  };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('PubSubSubscriber against the local Pub/Sub API', () => {
  const harness = subscriberHarness({ keepaliveMs: 150 });
  const { subscriber } = harness;

  it('delivers in order with at most batchSize events requested, and checkpoints the last replay id', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 230).map((n) => payload(n))
    );
    const sub = subscriber(effectsConsumer('ordered'), { batchSize: 40 });
    await sub.waitFor((s) => s.applied === 230);
    expect(effects(harness.fixture.db, 'ordered')).toEqual(range(1, 230).map((n) => `e${n}`));
    expect(harness.fixture.standIn.stats.maxOutstanding).toBeLessThanOrEqual(40);
    expect(harness.fixture.standIn.stats.maxNumRequested).toBeLessThanOrEqual(40);
    expect(sub.stats.maxOutstanding).toBeLessThanOrEqual(40);
    const events = harness.fixture.standIn.events(TOPIC);
    expect(sub.checkpoint()).toBe(events[events.length - 1]!.replayId.toString('hex'));
  });

  it('rejects a batch size above the Pub/Sub API maximum of 100', () => {
    expect(
      () =>
        new PubSubSubscriber({
          connection: harness.connection,
          db: harness.fixture.db,
          consumer: effectsConsumer('x'),
          batchSize: 101
        })
    ).toThrow(/batchSize must be 1..100/);
  });

  it('ignores redelivered events (same event id) without running the handler again', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 30).map((n) => payload(n))
    );
    const sub = subscriber(effectsConsumer('dupes'));
    await sub.waitFor((s) => s.applied === 30);
    harness.fixture.standIn.redeliver(TOPIC, 12);
    await sub.waitFor((s) => s.duplicatesIgnored === 12);
    expect(effects(harness.fixture.db, 'dupes')).toHaveLength(30);
    expect(new Set(effects(harness.fixture.db, 'dupes')).size).toBe(30);
  });

  it('resumes after the durable checkpoint after a restart (custom replay), not from the start', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 10).map((n) => payload(n))
    );
    const first = subscriber(effectsConsumer('resume'));
    await first.waitFor((s) => s.applied === 10);
    await first.stop();
    harness.fixture.standIn.publish(
      TOPIC,
      range(11, 15).map((n) => payload(n))
    );
    const second = subscriber(effectsConsumer('resume'));
    await second.waitFor((s) => s.applied === 5);
    expect(second.stats.duplicatesIgnored).toBe(0);
    expect(effects(harness.fixture.db, 'resume')).toEqual(range(1, 15).map((n) => `e${n}`));
  });

  it('keeps one checkpoint per consumer name: two consumers of one topic are independent', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 8).map((n) => payload(n))
    );
    const a = subscriber(effectsConsumer('consumer-a'));
    const b = subscriber(effectsConsumer('consumer-b'), { batchSize: 3 });
    await a.waitFor((s) => s.applied === 8);
    await b.waitFor((s) => s.applied === 8);
    expect(effects(harness.fixture.db, 'consumer-a')).toEqual(
      effects(harness.fixture.db, 'consumer-b')
    );
    expect(a.checkpoint()).toBe(b.checkpoint());
  });

  it('reconnects after the server drops the stream, from the checkpoint, without loss or duplicate effects', async () => {
    const sub = subscriber(effectsConsumer('dropped'), { batchSize: 10 });
    for (let round = 0; round < 5; round += 1) {
      harness.fixture.standIn.publish(
        TOPIC,
        range(round * 20 + 1, round * 20 + 20).map((n) => payload(n))
      );
      await sub.waitFor((s) => s.applied >= round * 20 + 7);
      harness.fixture.standIn.dropStreams();
    }
    await sub.waitFor((s) => s.applied === 100);
    expect(effects(harness.fixture.db, 'dropped')).toEqual(range(1, 100).map((n) => `e${n}`));
    expect(sub.stats.reconnects).toBeGreaterThanOrEqual(5);
    expect(harness.fixture.standIn.stats.subscribeCalls).toBeGreaterThanOrEqual(6);
    expect(harness.fixture.standIn.stats.activeStreams).toBe(1);
  });

  it('refreshes the session after UNAUTHENTICATED and carries on from the checkpoint', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 5).map((n) => payload(n))
    );
    const sub = subscriber(effectsConsumer('token'));
    await sub.waitFor((s) => s.applied === 5);
    harness.fixture.standIn.expireToken(harness.fixture.auth.token);
    harness.fixture.standIn.publish(
      TOPIC,
      range(6, 9).map((n) => payload(n))
    );
    await sub.waitFor((s) => s.applied === 9);
    expect(sub.stats.tokenRefreshes).toBe(1);
    expect(harness.fixture.auth.refreshes).toBe(1);
    expect(harness.fixture.auth.token).toBe('token-2');
    expect(effects(harness.fixture.db, 'token')).toEqual(range(1, 9).map((n) => `e${n}`));
  });

  it('decodes events written with a newer schema (an added field), fetching each schema id once', async () => {
    harness.fixture.standIn.publish(TOPIC, [payload(1)]);
    const newSchema = harness.fixture.standIn.addField(TOPIC, {
      name: 'Priority__c',
      type: ['null', 'string']
    });
    harness.fixture.standIn.publish(TOPIC, [payload(2, { Priority__c: 'High' })]);
    const seen: DecodedEvent[] = [];
    const sub = subscriber({
      ...effectsConsumer('schemas'),
      handle: (event) => void seen.push(event)
    });
    await sub.waitFor((s) => s.applied === 2);
    expect(seen[0]!.payload.Priority__c).toBeUndefined();
    expect(seen[1]!.payload.Priority__c).toBe('High');
    expect(seen[1]!.schemaId).toBe(newSchema);
    expect(harness.connection.cachedSchemaIds.sort()).toEqual(
      [seen[0]!.schemaId, newSchema].sort()
    );
  });

  it('dead-letters a poison event after maxAttempts, keeps going, and replays it once fixed', async () => {
    let broken = true;
    const consumer = effectsConsumer('poison', {
      failOn: (event) => broken && event.payload.Correlation_Id__c === 'e3'
    });
    let attempts = 0;
    const counting: EventConsumer = {
      ...consumer,
      handle(event, db) {
        if (event.payload.Correlation_Id__c === 'e3') attempts += 1;
        return consumer.handle(event, db);
      }
    };
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 5).map((n) => payload(n))
    );
    const sub = subscriber(counting, { maxAttempts: 4 });
    await sub.waitFor((s) => s.applied === 4 && s.deadLettered === 1);
    expect(attempts).toBe(4);
    expect(effects(harness.fixture.db, 'poison')).toEqual(['e1', 'e2', 'e4', 'e5']);
    const [letter] = new DeadLetterStore(harness.fixture.db).list('poison');
    expect(letter).toMatchObject({ status: 'open', attempts: 4, error: 'cannot handle e3' });
    expect(letter!.payload!.Correlation_Id__c).toBe('e3');

    // A redelivery of the poison event does not create a second dead letter.
    harness.fixture.standIn.redeliver(TOPIC, 3);
    await sub.waitFor((s) => s.duplicatesIgnored === 3);
    expect(new DeadLetterStore(harness.fixture.db).count('poison')).toBe(1);

    expect(() => replayDeadLetter(harness.fixture.db, counting, letter!.id)).toThrow(
      'cannot handle e3'
    );
    expect(new DeadLetterStore(harness.fixture.db).get('poison', letter!.id)).toMatchObject({
      status: 'open',
      attempts: 5
    });
    broken = false;
    const replayed = replayDeadLetter(harness.fixture.db, counting, letter!.id);
    expect(replayed.letter.status).toBe('replayed');
    expect(effects(harness.fixture.db, 'poison')).toEqual(['e1', 'e2', 'e4', 'e5', 'e3']);
    expect(() => replayDeadLetter(harness.fixture.db, counting, letter!.id)).toThrow(
      /already replayed/
    );
  });

  it('stores the keepalive replay id when the server is at the tip, then delivers what follows', async () => {
    const published = harness.fixture.standIn.publish(
      TOPIC,
      range(1, 3).map((n) => payload(n))
    );
    const sub = subscriber(effectsConsumer('keepalive', { startFrom: 'LATEST' }));
    await sub.waitFor((s) => s.keepalives >= 1);
    expect(sub.checkpoint()).toBe(published[2]!.replayId.toString('hex'));
    harness.fixture.standIn.publish(TOPIC, [payload(4)]);
    await sub.waitFor((s) => s.applied === 1);
    expect(effects(harness.fixture.db, 'keepalive')).toEqual(['e4']);
  });

  it('reopens a stream that stays silent past the idle timeout', async () => {
    await harness.restart({ keepaliveMs: 60_000 });
    const sub = subscriber(effectsConsumer('idle'), { idleTimeoutMs: 150 });
    await sub.waitFor((s) => s.reconnects >= 2, 5_000);
    harness.fixture.standIn.publish(TOPIC, [payload(1)]);
    await sub.waitFor((s) => s.applied === 1);
    expect(sub.stats.lastError).toMatch(/No data or keepalive/);
  });
});
