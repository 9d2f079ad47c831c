import type Database from 'better-sqlite3';
import {
  DeadLetterStore,
  type DecodedEvent,
  type EventConsumer
} from '../../../src/salesforce/pubsub';
import { TOPIC } from '../../fire-and-forget/support';
import { subscriberHarness } from './harness';

/**
 * The subscriber's throughput machinery against the local Pub/Sub API stand-in: a FetchResponse is applied in one
 * transaction without a savepoint per event, and redone event by event when one of its events fails; the next batch
 * is requested while the current one is being written, never with more than `batchSize` events owed.
 */

function payload(n: number): Record<string, unknown> {
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
    Correlation_Id__c: `e${n}`
  };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A consumer writing one row per event, whose handler throws while `failing(correlation)` says so. */
function consumer(
  name: string,
  failing: (correlation: string, attempt: number) => boolean = () => false
): EventConsumer & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    name,
    topic: TOPIC,
    startFrom: 'EARLIEST',
    calls,
    handle(event: DecodedEvent, db: Database.Database) {
      const correlation = String(event.payload.Correlation_Id__c);
      const attempt = (calls.get(correlation) ?? 0) + 1;
      calls.set(correlation, attempt);
      // The write comes first, so a throw after it proves the rollback of this event's partial effect.
      db.prepare('INSERT INTO test_effects (consumer, event_id, correlation) VALUES (?, ?, ?)').run(
        name,
        event.id,
        correlation
      );
      if (failing(correlation, attempt)) throw new Error(`cannot handle ${correlation}`);
    }
  };
}

function effects(db: Database.Database, name: string): string[] {
  return db
    .prepare('SELECT correlation FROM test_effects WHERE consumer = ? ORDER BY rowid')
    .pluck()
    .all(name) as string[];
}

describe('PubSubSubscriber fast path and pipelined flow control', () => {
  const harness = subscriberHarness({ keepaliveMs: 60_000 });
  const { subscriber } = harness;

  it('redoes a batch event by event when one event fails once: every effect once, in order, one ledger row each', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 25).map((n) => payload(n))
    );
    const flaky = consumer(
      'flaky',
      (correlation, attempt) => correlation === 'e7' && attempt === 1
    );
    const sub = subscriber(flaky, { batchSize: 10, maxAttempts: 3 });
    await sub.waitFor((s) => s.applied === 25);
    // The fast attempt at the first batch wrote e1..e7 and was rolled back as a whole: nothing of it remains.
    expect(effects(harness.fixture.db, 'flaky')).toEqual(range(1, 25).map((n) => `e${n}`));
    expect(flaky.calls.get('e7')).toBe(2);
    expect(flaky.calls.get('e1')).toBe(2);
    expect(flaky.calls.get('e11')).toBe(1);
    expect(sub.stats.retries).toBe(1);
    expect(sub.stats.deadLettered).toBe(0);
    expect(
      harness.fixture.db
        .prepare("SELECT count(*) FROM pubsub_processed_events WHERE consumer = 'flaky'")
        .pluck()
        .get()
    ).toBe(25);
    const events = harness.fixture.standIn.events(TOPIC);
    expect(sub.checkpoint()).toBe(events[24]!.replayId.toString('hex'));
  });

  it('dead-letters an event that fails on its only attempt without trying it again', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 5).map((n) => payload(n))
    );
    const poison = consumer('only-once', (correlation) => correlation === 'e2');
    const sub = subscriber(poison, { maxAttempts: 1 });
    await sub.waitFor((s) => s.applied === 4 && s.deadLettered === 1);
    expect(poison.calls.get('e2')).toBe(1);
    expect(effects(harness.fixture.db, 'only-once')).toEqual(['e1', 'e3', 'e4', 'e5']);
    const [letter] = new DeadLetterStore(harness.fixture.db).list('only-once');
    expect(letter).toMatchObject({ attempts: 1, error: 'cannot handle e2', status: 'open' });
    expect(sub.stats.retries).toBe(0);
  });

  it('requests the next batch while the current one is written, with at most batchSize owed and one batch waiting', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 50).map((n) => payload(n))
    );
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const base = consumer('pipelined');
    const held: EventConsumer = {
      ...base,
      // Holds the first batch before its transaction (prepare runs outside it), as a slow write would.
      prepare: async (event) => {
        if (event.payload.Correlation_Id__c === 'e1') await gate;
        return undefined;
      }
    };
    const sub = subscriber(held, { batchSize: 10 });
    // waitFor checks after batches and state changes; receipt is neither, so poll for it.
    for (let waited = 0; sub.stats.received < 20 && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The second batch was requested and delivered before the first committed; a third is not asked for.
    await new Promise((resolve) => setTimeout(resolve, 200));
    try {
      expect(sub.stats.received).toBe(20);
      expect(harness.fixture.standIn.stats.fetchRequests).toBe(2);
      expect(sub.checkpoint()).toBeUndefined();
    } finally {
      release();
    }
    await sub.waitFor((s) => s.applied === 50);
    expect(effects(harness.fixture.db, 'pipelined')).toEqual(range(1, 50).map((n) => `e${n}`));
    expect(harness.fixture.standIn.stats.maxOutstanding).toBeLessThanOrEqual(10);
    expect(harness.fixture.standIn.stats.maxNumRequested).toBeLessThanOrEqual(10);
    expect(sub.stats.maxOutstanding).toBeLessThanOrEqual(10);
  });
  it('commits nothing after an event whose retry was cut short by stop, though the next batch had arrived', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 20).map((n) => payload(n))
    );
    const stuck = consumer('stopped-in-retry', (correlation) => correlation === 'e3');
    const sub = subscriber(stuck, { batchSize: 10, maxAttempts: 3, retryBackoffMs: 5_000 });
    // e1 and e2 commit, e3 fails and waits 5 s before its second attempt; meanwhile e11..e20 arrive.
    await sub.waitFor((s) => s.retries === 1);
    for (let waited = 0; sub.stats.received < 20 && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sub.stats.received).toBe(20);
    await sub.stop();
    const events = harness.fixture.standIn.events(TOPIC);
    expect(sub.checkpoint()).toBe(events[1]!.replayId.toString('hex'));
    expect(effects(harness.fixture.db, 'stopped-in-retry')).toEqual(['e1', 'e2']);

    // A restart resumes at e3: every event once, in order.
    const again = subscriber(consumer('stopped-in-retry'), { batchSize: 10 });
    await again.waitFor((s) => s.applied === 18);
    expect(effects(harness.fixture.db, 'stopped-in-retry')).toEqual(
      range(1, 20).map((n) => `e${n}`)
    );
  });

  it('leaves the batches after one that cannot commit to the next stream, losing none', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 30).map((n) => payload(n))
    );
    // A database error outside the handler: the first checkpoint of this consumer is refused while the flag is set.
    harness.fixture.db.exec(`
      CREATE TABLE test_refuse_checkpoint (consumer TEXT);
      INSERT INTO test_refuse_checkpoint VALUES ('commit-fails');
      CREATE TRIGGER test_refuse BEFORE INSERT ON pubsub_checkpoints
      WHEN NEW.consumer IN (SELECT consumer FROM test_refuse_checkpoint)
      BEGIN SELECT RAISE(ABORT, 'checkpoint refused'); END;
    `);
    const allow = () => harness.fixture.db.exec('DELETE FROM test_refuse_checkpoint');
    const base = consumer('commit-fails');
    const slow: EventConsumer = {
      ...base,
      // Slow enough that the second batch has arrived when the first fails. Were the second batch processed after
      // the failure (it clears the flag here), its checkpoint would pass e1..e10, which were never applied.
      prepare: async (event) => {
        if (event.payload.Correlation_Id__c === 'e11') allow();
        await new Promise((resolve) => setTimeout(resolve, 10));
        return undefined;
      }
    };
    const sub = subscriber(slow, {
      batchSize: 10,
      onNotify: (notification) => {
        if (notification.kind === 'reconnect') allow();
      }
    });
    await sub.waitFor((s) => s.applied === 30, 8_000);
    expect(sub.stats.lastError).toMatch(/checkpoint refused/);
    expect(effects(harness.fixture.db, 'commit-fails')).toEqual(range(1, 30).map((n) => `e${n}`));
    const events = harness.fixture.standIn.events(TOPIC);
    expect(sub.checkpoint()).toBe(events[29]!.replayId.toString('hex'));
  });
  it('gives a batch up when SQLite ended its transaction under an event, and applies it again from the checkpoint', async () => {
    harness.fixture.standIn.publish(
      TOPIC,
      range(1, 10).map((n) => payload(n))
    );
    let rolledBack = false;
    // e3 fails once, so the batch is redone event by event; then e5 fails the way SQLITE_FULL does: SQLite rolls the
    // whole transaction back (e1, e2, e3 and e4 included) and the statement throws.
    const base = consumer('ended', (correlation, attempt) => correlation === 'e3' && attempt === 1);
    const ending: EventConsumer = {
      ...base,
      handle(event, db, prepared) {
        if (!rolledBack && event.payload.Correlation_Id__c === 'e5') {
          rolledBack = true;
          db.exec('ROLLBACK');
          throw new Error('database or disk is full');
        }
        return base.handle(event, db, prepared);
      }
    };
    const sub = subscriber(ending, { batchSize: 10, maxAttempts: 3 });
    await sub.waitFor((s) => s.applied === 10, 8_000);
    expect(rolledBack).toBe(true);
    expect(sub.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(effects(harness.fixture.db, 'ended')).toEqual(range(1, 10).map((n) => `e${n}`));
    const events = harness.fixture.standIn.events(TOPIC);
    expect(sub.checkpoint()).toBe(events[9]!.replayId.toString('hex'));
    expect(new DeadLetterStore(harness.fixture.db).count('ended')).toBe(0);
  });
});
