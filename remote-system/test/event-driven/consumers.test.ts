import type Database from 'better-sqlite3';
import { setKnob } from '../../src/event-driven/consumers';
import type { ConsumerName } from '../../src/event-driven/contract';
import {
  startEventDrivenSubscribers,
  type EventDrivenSubscribers
} from '../../src/event-driven/runner';
import { readStatus } from '../../src/event-driven/status';
import { DeadLetterStore } from '../../src/salesforce/pubsub';
import { accountId, customerNumber, readContract, startFixture, type Fixture } from './support';

/**
 * The three consumers against the shared local Pub/Sub API (TLS gRPC, the contract's AccountChangeEvent schema on the
 * custom channel), the REST stand-in for gap re-reads, and a real SQLite database.
 */

const count = (db: Database.Database, sql: string, ...params: unknown[]): number =>
  db
    .prepare(sql)
    .pluck()
    .get(...params) as number;

const customer = (db: Database.Database, n: number) =>
  db
    .prepare(
      'SELECT name, industry, city, country, on_hold AS onHold FROM customers WHERE customer_number = ?'
    )
    .get(customerNumber(n)) as
    { name: string; industry: string; city: string; country: string; onHold: number } | undefined;

const created = (n: number, extra: Record<string, unknown> = {}) => ({
  changeType: 'CREATE' as const,
  recordIds: [accountId(n)],
  changed: {
    Name: `Account ${n}`,
    Industry: 'Retail',
    'BillingAddress.City': 'Porto',
    'BillingAddress.Country': 'Portugal',
    AnnualRevenue: 1_000_000,
    NumberOfEmployees: 20,
    ERP_Customer_Number__c: customerNumber(n),
    ...extra
  }
});

const updated = (n: number, changed: Record<string, unknown>, commitTimestamp?: number) => ({
  changeType: 'UPDATE' as const,
  recordIds: [accountId(n)],
  changed,
  enriched: { ERP_Customer_Number__c: customerNumber(n) },
  ...(commitTimestamp === undefined ? {} : { commitTimestamp })
});

describe('event-driven: three independent consumers of one change stream', () => {
  let fx: Fixture;
  const running: EventDrivenSubscribers[] = [];

  const start = (env: Record<string, string> = {}) => {
    const subscribers = startEventDrivenSubscribers({
      config: fx.config(env),
      db: fx.db,
      auth: fx.auth,
      initialBackoffMs: 20,
      maxBackoffMs: 200,
      replayPollMs: 60_000
    });
    running.push(subscribers);
    return subscribers;
  };
  const stop = async (subscribers: EventDrivenSubscribers) => {
    running.splice(running.indexOf(subscribers), 1);
    await subscribers.stop();
  };
  const sub = (subscribers: EventDrivenSubscribers, name: ConsumerName) =>
    subscribers.subscribers.get(name)!;
  const handled = (name: ConsumerName) =>
    count(fx.db, 'SELECT count(*) FROM pubsub_processed_events WHERE consumer = ?', name);

  beforeEach(async () => {
    fx = await startFixture();
  });

  afterEach(async () => {
    for (const subscribers of running.splice(0)) await subscribers.stop();
    await fx.close();
  });

  it('fans each change out to all three consumers, each with its own checkpoint and effect', async () => {
    const events = fx.publish([
      created(1, { AnnualRevenue: 60_000_000 }),
      updated(1, { Name: 'Account 1 Renamed', 'BillingAddress.City': 'Braga' })
    ]);
    const subscribers = start();
    for (const name of ['erp-customer-master', 'marketing-segments', 'analytics'] as const) {
      await sub(subscribers, name).waitFor((s) => s.applied === 2);
      expect(sub(subscribers, name).checkpoint()).toBe(events[1]!.replayId.toString('hex'));
    }
    expect(customer(fx.db, 1)).toMatchObject({
      name: 'Account 1 Renamed',
      industry: 'Retail',
      city: 'Braga',
      country: 'Portugal'
    });
    expect(
      fx.db
        .prepare('SELECT segment FROM event_driven_segment_members WHERE account_id = ?')
        .pluck()
        .get(accountId(1))
    ).toBe('enterprise');
    expect(
      fx.db
        .prepare(
          'SELECT change_type FROM event_driven_change_history ORDER BY commit_timestamp, change_type'
        )
        .pluck()
        .all()
    ).toEqual(['CREATE', 'UPDATE']);
    // Three subscriptions on one stream: each consumer has its own stream and its own checkpoint row.
    expect(fx.pubsub.stats.subscribeCalls).toBe(3);
    expect(count(fx.db, 'SELECT count(*) FROM pubsub_checkpoints')).toBe(3);
  });

  it('keeps the others at pace while one consumer throws; it backs off, dead-letters alone, and replays exactly once', async () => {
    setKnob(fx.db, 'marketing-segments', 'throw');
    const subscribers = start();
    fx.publish([1, 2, 3, 4, 5].map((n) => created(n)));
    await sub(subscribers, 'erp-customer-master').waitFor((s) => s.applied === 5);
    await sub(subscribers, 'analytics').waitFor((s) => s.applied === 5);
    const broken = sub(subscribers, 'marketing-segments');
    await broken.waitFor((s) => s.deadLettered === 5);
    // 3 attempts per event, with a backoff before each retry: 2 retries per event.
    expect(broken.stats.retries).toBe(10);
    expect(broken.stats.applied).toBe(0);
    expect(count(fx.db, 'SELECT count(*) FROM event_driven_segment_members')).toBe(0);
    const letters = new DeadLetterStore(fx.db).list('marketing-segments');
    expect(letters).toHaveLength(5);
    expect(letters[0]!.error).toMatch(/broken by the console knob/);
    expect(new DeadLetterStore(fx.db).count('erp-customer-master')).toBe(0);
    expect(
      readStatus(fx.db, fx.topic).consumers.find((c) => c.name === 'marketing-segments')
    ).toMatchObject({ deadLettersOpen: 5, knob: 'throw' });

    // Healed: new events flow, and the replayed dead letters apply once each.
    setKnob(fx.db, 'marketing-segments', 'none');
    fx.publish([updated(6, { Industry: 'Energy' }), created(6)]);
    await broken.waitFor((s) => s.applied === 2);
    for (const letter of letters) {
      fx.db
        .prepare(
          'INSERT INTO event_driven_replay_requests (dead_letter_id, consumer, requested_at) VALUES (?, ?, ?)'
        )
        .run(letter.id, 'marketing-segments', new Date().toISOString());
    }
    expect(await subscribers.runReplayRequests()).toBe(5);
    expect(
      fx.db.prepare('SELECT DISTINCT outcome FROM event_driven_replay_requests').pluck().all()
    ).toEqual(['applied']);
    expect(
      count(fx.db, 'SELECT count(*) FROM event_driven_segment_members WHERE deleted = 0')
    ).toBe(6);
    expect(new DeadLetterStore(fx.db).count('marketing-segments', 'replayed')).toBe(5);
    // A second replay of the same letters is refused, not applied twice.
    fx.db.prepare('UPDATE event_driven_replay_requests SET done_at = NULL').run();
    await subscribers.runReplayRequests();
    const errors = fx.db
      .prepare('SELECT error FROM event_driven_replay_requests')
      .pluck()
      .all() as string[];
    expect(errors).toHaveLength(5);
    for (const error of errors) expect(error).toMatch(/is already replayed/);
    expect(count(fx.db, 'SELECT count(*) FROM event_driven_segment_members')).toBe(6);
  });

  it('dead-letters on a hanging dependency after the deadline, while the others keep their pace', async () => {
    setKnob(fx.db, 'erp-customer-master', 'hang');
    const subscribers = start({
      EVENT_DRIVEN_PREPARE_TIMEOUT_MS: '150',
      EVENT_DRIVEN_MAX_ATTEMPTS: '2'
    });
    fx.publish([created(7), created(8)]);
    await sub(subscribers, 'analytics').waitFor((s) => s.applied === 2);
    await sub(subscribers, 'marketing-segments').waitFor((s) => s.applied === 2);
    const hung = sub(subscribers, 'erp-customer-master');
    expect(hung.stats.applied).toBe(0);
    await hung.waitFor((s) => s.deadLettered === 2, 5_000);
    const [letter] = new DeadLetterStore(fx.db).list('erp-customer-master');
    expect(letter!.error).toMatch(/prepare timed out after 150 ms/);
    expect(letter!.attempts).toBe(2);
  });

  it('lets a consumer that was down catch up from its own checkpoint with exactly-once effects', async () => {
    fx.publish([created(1), created(2), created(3)]);
    const first = start();
    for (const name of ['erp-customer-master', 'marketing-segments', 'analytics'] as const) {
      await sub(first, name).waitFor((s) => s.applied === 3);
    }
    await stop(first);

    // Marketing is down; the other two run on and handle 10 more changes.
    const partial = start({ EVENT_DRIVEN_CONSUMERS: 'erp-customer-master,analytics' });
    const later = fx.publish(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) =>
        updated((n % 3) + 1, { NumberOfEmployees: 100 * n })
      )
    );
    await sub(partial, 'erp-customer-master').waitFor((s) => s.applied === 10);
    await sub(partial, 'analytics').waitFor((s) => s.applied === 10);
    const behind = readStatus(fx.db, fx.topic).consumers.find(
      (c) => c.name === 'marketing-segments'
    )!;
    expect(behind.eventsBehind).toBe(10);
    expect(behind.lagMs).toBeGreaterThanOrEqual(0);
    await stop(partial);

    const all = start();
    const segments = sub(all, 'marketing-segments');
    await segments.waitFor((s) => s.applied === 10);
    expect(segments.checkpoint()).toBe(later[9]!.replayId.toString('hex'));
    expect(handled('marketing-segments')).toBe(13);
    // The others resumed after their checkpoints: nothing handled twice.
    expect(sub(all, 'analytics').stats.received).toBe(0);
    expect(count(fx.db, 'SELECT count(*) FROM event_driven_change_history')).toBe(13);
    // Last write per account wins: account 1 got n = 3, 6, 9 → 900 employees (mid-market by head count).
    expect(
      fx.db
        .prepare(
          "SELECT employees || ':' || segment FROM event_driven_segment_members WHERE account_id = ?"
        )
        .pluck()
        .get(accountId(1))
    ).toBe('900:mid-market');
    expect(readStatus(fx.db, fx.topic).consumers.map((c) => c.eventsBehind)).toEqual([0, 0, 0]);
  });

  it('applies a multi-record change event to every record id it carries', async () => {
    fx.publish([created(2), created(3), created(4)]);
    fx.publish([
      {
        changeType: 'UPDATE',
        recordIds: [accountId(2), accountId(3), accountId(4)],
        changed: { Industry: 'Energy' }
      }
    ]);
    const subscribers = start();
    for (const name of ['erp-customer-master', 'marketing-segments', 'analytics'] as const) {
      await sub(subscribers, name).waitFor((s) => s.applied === 4);
    }
    expect([2, 3, 4].map((n) => customer(fx.db, n)!.industry)).toEqual([
      'Energy',
      'Energy',
      'Energy'
    ]);
    expect(
      count(fx.db, "SELECT count(*) FROM event_driven_segment_members WHERE industry = 'Energy'")
    ).toBe(3);
    expect(
      fx.db
        .prepare(
          "SELECT events || '/' || records FROM event_driven_change_counts WHERE change_type = 'UPDATE'"
        )
        .pluck()
        .get()
    ).toBe('1/3');
  });

  it('decodes the changed and nulled field bitmaps of the contract example against the event schema', async () => {
    const example = readContract().examples.update!;
    fx.pubsub.publish(fx.topic, [example.payload]);
    const subscribers = start();
    await sub(subscribers, 'analytics').waitFor((s) => s.applied === 1);
    await sub(subscribers, 'erp-customer-master').waitFor((s) => s.applied === 1);
    const row = fx.db
      .prepare(
        'SELECT changed_fields AS changed, nulled_fields AS nulled FROM event_driven_change_history'
      )
      .get() as { changed: string; nulled: string };
    expect(JSON.parse(row.changed)).toEqual(example.decoded!.changedFields);
    expect(JSON.parse(row.nulled)).toEqual(example.decoded!.nulledFields);
    // The enriched customer number links the Account; the changed values land; the unchanged Name is untouched.
    expect(customer(fx.db, 1)).toMatchObject({ industry: 'Manufacturing', city: 'Lyon' });
    expect(customer(fx.db, 1)!.name).not.toBe('');
  });

  it('re-reads the records of a gap event through the REST API instead of trusting the event', async () => {
    fx.putAccount({
      Id: accountId(5),
      Name: 'Gap Corp',
      Industry: 'Retail',
      BillingCity: 'Oslo',
      BillingCountry: 'Norway',
      Phone: null,
      AnnualRevenue: 7_000_000,
      NumberOfEmployees: 10,
      ERP_Customer_Number__c: customerNumber(5)
    });
    fx.publish([{ changeType: 'GAP_UPDATE', recordIds: [accountId(5)] }]);
    const subscribers = start();
    for (const name of ['erp-customer-master', 'marketing-segments', 'analytics'] as const) {
      await sub(subscribers, name).waitFor((s) => s.applied === 1);
    }
    expect(customer(fx.db, 5)).toMatchObject({ name: 'Gap Corp', city: 'Oslo', country: 'Norway' });
    expect(
      fx.db
        .prepare('SELECT source FROM event_driven_customer_links WHERE account_id = ?')
        .pluck()
        .get(accountId(5))
    ).toBe('re-read');
    expect(
      fx.db
        .prepare('SELECT segment FROM event_driven_segment_members WHERE account_id = ?')
        .pluck()
        .get(accountId(5))
    ).toBe('mid-market');
    // One GET per consumer that needs values (analytics counts the gap as it is).
    const reads = fx.rest.requests.filter((r) => r.method === 'GET');
    expect(reads).toHaveLength(2);
    expect(reads[0]!.path).toBe(`/services/data/v67.0/sobjects/Account/${accountId(5)}`);
    expect(reads.every((r) => r.status === 200)).toBe(true);
  });

  it('treats a gap event for a record that no longer exists (404) as a delete', async () => {
    fx.publish([created(9)]);
    fx.publish([{ changeType: 'GAP_UPDATE', recordIds: [accountId(9)] }]);
    const subscribers = start();
    await sub(subscribers, 'erp-customer-master').waitFor((s) => s.applied === 2);
    expect(customer(fx.db, 9)!.onHold).toBe(1);
  });

  it('turns an overflow event into a re-sync request per consumer instead of guessing', async () => {
    fx.publish([{ changeType: 'GAP_OVERFLOW', recordIds: [] }]);
    const subscribers = start();
    for (const name of ['erp-customer-master', 'marketing-segments', 'analytics'] as const) {
      await sub(subscribers, name).waitFor((s) => s.applied === 1);
    }
    expect(
      fx.db
        .prepare('SELECT consumer FROM event_driven_resync_requests ORDER BY consumer')
        .pluck()
        .all()
    ).toEqual(['analytics', 'erp-customer-master', 'marketing-segments']);
    expect(fx.rest.requests).toHaveLength(0);
    expect(readStatus(fx.db, fx.topic).consumers.map((c) => c.resyncRequestsOpen)).toEqual([
      1, 1, 1
    ]);
  });

  it('skips a late change older than what a consumer already applied to that record', async () => {
    fx.publish([
      created(10),
      updated(10, { Industry: 'Banking' }, Date.now() + 60_000),
      updated(10, { Industry: 'Stale' }, Date.now() - 60_000)
    ]);
    const subscribers = start();
    await sub(subscribers, 'erp-customer-master').waitFor(
      (s) => s.applied + s.businessDuplicates === 3
    );
    expect(customer(fx.db, 10)!.industry).toBe('Banking');
    expect(sub(subscribers, 'erp-customer-master').stats.businessDuplicates).toBe(1);
  });
});
