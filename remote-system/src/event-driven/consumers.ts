import type Database from 'better-sqlite3';
import type { ChangeEvent, DecodedEvent, EventConsumer, HandleOutcome } from '../salesforce/pubsub';
import { ENTITY, type ConsumerName } from './contract';
import type { AccountReader, AccountSnapshot } from './records';

/**
 * The three independent consumers of the Account change stream. Each is an {@link EventConsumer} of the shared
 * Pub/Sub machinery, so each has its own subscription, checkpoint, processed-event ledger and dead letters, and its
 * effect commits in one transaction with its checkpoint (exactly once in the database). What they share is only the
 * stream:
 *
 * - **erp-customer-master** keeps the ERP's `customers` row of a linked Account current (name, industry, city,
 *   country); a deleted Account puts the customer on hold. Gap events are re-read through the REST API.
 * - **marketing-segments** keeps a per-Account snapshot of the fields its rule needs and recomputes the Account's
 *   segment. Gap events are re-read through the REST API.
 * - **analytics** appends every change (one row per record id) to a history table and keeps daily counts per change
 *   type. It records gap events as they are: it counts changes, it does not need the values.
 *
 * Overflow events (and record ids with a wildcard, `001*`) name no record: each consumer records a re-sync request
 * for the entity, shown in the console, instead of guessing. An event older than what a consumer already applied to a
 * record (by commit timestamp) is skipped for that record, so a late redelivery cannot roll a value back.
 *
 * A console knob (`event_driven_knobs`) breaks one consumer for the demo: `throw` makes its handler fail, `hang` makes
 * its asynchronous step never finish (the subscriber's deadline cuts it). Either way only that consumer backs off and
 * dead-letters; the others keep their pace.
 */

/** What a consumer's asynchronous step hands to its handler: the records re-read after a gap event. */
export interface Prepared {
  readonly snapshots?: ReadonlyMap<string, AccountSnapshot | null>;
}

export interface ConsumerOptions {
  readonly topic: string;
  readonly startFrom?: 'LATEST' | 'EARLIEST';
  /** Reads the knobs from the asynchronous step (handlers get the database as an argument). */
  readonly db: Database.Database;
  /** Re-reads records after gap events; without it, a gap event fails (and is dead-lettered) for the consumers that need it. */
  readonly reader?: AccountReader;
}

export type KnobMode = 'throw' | 'hang';

export function readKnob(db: Database.Database, consumer: string): KnobMode | undefined {
  return db
    .prepare('SELECT mode FROM event_driven_knobs WHERE consumer = ?')
    .pluck()
    .get(consumer) as KnobMode | undefined;
}

export function setKnob(db: Database.Database, consumer: string, mode: KnobMode | 'none'): void {
  if (mode === 'none') {
    db.prepare('DELETE FROM event_driven_knobs WHERE consumer = ?').run(consumer);
    return;
  }
  db.prepare(
    `INSERT INTO event_driven_knobs (consumer, mode, set_at) VALUES (?, ?, ?)
     ON CONFLICT (consumer) DO UPDATE SET mode = excluded.mode, set_at = excluded.set_at`
  ).run(consumer, mode, new Date().toISOString());
}

function requireChange(event: DecodedEvent): ChangeEvent {
  if (!event.change) throw new Error(`Event ${event.id} is not a change event`);
  return event.change;
}

/** True when the event names no individual record: an overflow event, or record ids with a wildcard (`001*`). */
function needsResync(change: ChangeEvent): boolean {
  return change.isOverflow || change.header.recordIds.some((id) => id.endsWith('*'));
}

function requestResync(
  db: Database.Database,
  consumer: string,
  event: DecodedEvent,
  change: ChangeEvent
): void {
  const reason = change.isOverflow
    ? 'overflow event: more than 100,000 changes in one transaction, no record ids'
    : `record ids with a wildcard (${change.header.recordIds.join(', ')}): a field type conversion changed every record`;
  db.prepare(
    `INSERT INTO event_driven_resync_requests (consumer, entity, reason, event_id, commit_timestamp, status, requested_at)
     VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (consumer, event_id) DO NOTHING`
  ).run(
    consumer,
    change.header.entityName,
    reason,
    event.id,
    change.header.commitTimestamp,
    new Date().toISOString()
  );
}

function recordPosition(
  db: Database.Database,
  consumer: string,
  event: DecodedEvent,
  change: ChangeEvent
): void {
  db.prepare(
    `INSERT INTO event_driven_positions (consumer, last_event_id, last_change_type, last_commit_timestamp, updated_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (consumer) DO UPDATE SET last_event_id = excluded.last_event_id,
       last_change_type = excluded.last_change_type,
       last_commit_timestamp = max(last_commit_timestamp, excluded.last_commit_timestamp),
       updated_at = excluded.updated_at`
  ).run(
    consumer,
    event.id,
    change.header.changeType,
    change.header.commitTimestamp,
    new Date().toISOString()
  );
}

/** The knob and the common checks every handler starts with; undefined when the event is not for this stream. */
function begin(name: string, event: DecodedEvent, db: Database.Database): ChangeEvent | undefined {
  if (readKnob(db, name) === 'throw') throw new Error(`${name} is broken by the console knob`);
  const change = requireChange(event);
  recordPosition(db, name, event, change);
  return change.header.entityName === ENTITY ? change : undefined;
}

/**
 * The new values of `fields` an event carries for a record: for a gap event, the record as re-read (every field);
 * otherwise the values sent (changed or enriched) and null for each nulled field. Undefined means "not in the event".
 */
function incoming(
  change: ChangeEvent,
  fields: readonly string[],
  snapshot: AccountSnapshot | undefined
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const field of fields) {
    if (snapshot) out.set(field, snapshot[field] ?? null);
    else if (change.header.nulledFields.includes(field)) out.set(field, null);
    else if (field in change.values) out.set(field, change.values[field]);
  }
  return out;
}

const isDelete = (change: ChangeEvent, snapshot: AccountSnapshot | null | undefined): boolean =>
  change.header.changeType === 'DELETE' ||
  change.header.changeType === 'GAP_DELETE' ||
  (change.isGap && snapshot === null);

/** Shared asynchronous step: the `hang` knob, and the REST re-read of a gap event's records. */
function prepareWith(name: ConsumerName, options: ConsumerOptions, reRead: boolean) {
  return async (event: DecodedEvent, signal: AbortSignal): Promise<Prepared> => {
    if (readKnob(options.db, name) === 'hang') {
      // Never settles by itself: the subscriber's deadline aborts it (a dependency that stopped answering).
      await new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    }
    const change = requireChange(event);
    if (!reRead || !change.isGap || change.header.changeType === 'GAP_DELETE') return {};
    if (!options.reader)
      throw new Error('A gap event needs the record re-read, and no REST reader is configured');
    const snapshots = new Map<string, AccountSnapshot | null>();
    for (const id of change.header.recordIds)
      snapshots.set(id, await options.reader.read(id, signal));
    return { snapshots };
  };
}

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

/** ERP customer master: the `customers` row of each linked Account. */
export function createCustomerMasterConsumer(options: ConsumerOptions): EventConsumer<Prepared> {
  const name: ConsumerName = 'erp-customer-master';
  const fields = [
    'Name',
    'Industry',
    'BillingAddress.City',
    'BillingAddress.Country',
    'ERP_Customer_Number__c'
  ];
  const columns: Record<string, string> = {
    Name: 'name',
    Industry: 'industry',
    'BillingAddress.City': 'city',
    'BillingAddress.Country': 'country'
  };
  return {
    name,
    topic: options.topic,
    startFrom: options.startFrom ?? 'EARLIEST',
    prepare: prepareWith(name, options, true),
    handle(event, db, prepared): HandleOutcome {
      const change = begin(name, event, db);
      if (!change) return 'duplicate';
      if (needsResync(change)) {
        requestResync(db, name, event, change);
        return 'applied';
      }
      const now = new Date().toISOString();
      let applied = 0;
      for (const accountId of change.header.recordIds) {
        const link = db
          .prepare(
            'SELECT customer_number AS customerNumber, last_commit_timestamp AS at FROM event_driven_customer_links WHERE account_id = ?'
          )
          .get(accountId) as { customerNumber: string; at: number } | undefined;
        if (link && link.at > change.header.commitTimestamp) continue;
        const snapshot = prepared?.snapshots?.get(accountId);
        const source = change.isGap ? 're-read' : 'event';
        if (isDelete(change, snapshot)) {
          if (!link) continue;
          db.prepare('UPDATE customers SET on_hold = 1 WHERE customer_number = ?').run(
            link.customerNumber
          );
          db.prepare(
            'UPDATE event_driven_customer_links SET deleted = 1, last_commit_timestamp = ?, source = ?, updated_at = ? WHERE account_id = ?'
          ).run(change.header.commitTimestamp, source, now, accountId);
          applied += 1;
          continue;
        }
        const values = incoming(change, fields, snapshot ?? undefined);
        const customerNumber = text(values.get('ERP_Customer_Number__c')) ?? link?.customerNumber;
        if (!customerNumber || !/^C-\d{6}$/.test(customerNumber)) continue;
        const exists =
          db.prepare('SELECT 1 FROM customers WHERE customer_number = ?').get(customerNumber) !==
          undefined;
        const sets: string[] = [];
        const params: unknown[] = [];
        for (const [field, column] of Object.entries(columns)) {
          if (!values.has(field)) continue;
          const value = text(values.get(field));
          if (column === 'name' && value === null) continue;
          sets.push(`${column} = ?`);
          params.push(value ?? '');
        }
        const undelete =
          change.header.changeType === 'UNDELETE' || change.header.changeType === 'GAP_UNDELETE';
        if (exists) {
          if (undelete) sets.push('on_hold = 0');
          if (sets.length > 0) {
            db.prepare(`UPDATE customers SET ${sets.join(', ')} WHERE customer_number = ?`).run(
              ...params,
              customerNumber
            );
          }
        } else {
          db.prepare(
            `INSERT INTO customers (customer_number, name, industry, city, country, credit_limit_cents, balance_cents, risk_rating, on_hold)
             VALUES (?, ?, ?, ?, ?, 0, 0, 'C', 0)`
          ).run(
            customerNumber,
            text(values.get('Name')) ?? `Account ${accountId}`,
            text(values.get('Industry')) ?? '',
            text(values.get('BillingAddress.City')) ?? '',
            text(values.get('BillingAddress.Country')) ?? ''
          );
        }
        db.prepare(
          `INSERT INTO event_driven_customer_links (account_id, customer_number, deleted, last_commit_timestamp, source, updated_at)
           VALUES (?, ?, 0, ?, ?, ?)
           ON CONFLICT (account_id) DO UPDATE SET customer_number = excluded.customer_number, deleted = 0,
             last_commit_timestamp = excluded.last_commit_timestamp, source = excluded.source, updated_at = excluded.updated_at`
        ).run(accountId, customerNumber, change.header.commitTimestamp, source, now);
        applied += 1;
      }
      return applied > 0 ? 'applied' : 'duplicate';
    }
  };
}

/** The segment rule: by annual revenue or head count. */
export function segmentOf(annualRevenue: number | null, employees: number | null): string {
  if ((annualRevenue ?? 0) >= 50_000_000 || (employees ?? 0) >= 1_000) return 'enterprise';
  if ((annualRevenue ?? 0) >= 5_000_000 || (employees ?? 0) >= 100) return 'mid-market';
  return 'smb';
}

interface SegmentRow {
  industry: string | null;
  annual_revenue: number | null;
  employees: number | null;
  country: string | null;
  last_commit_timestamp: number;
}

/** Marketing segments: a per-Account snapshot of the rule's inputs, and the segment it gives. */
export function createSegmentsConsumer(options: ConsumerOptions): EventConsumer<Prepared> {
  const name: ConsumerName = 'marketing-segments';
  const fields = ['Industry', 'AnnualRevenue', 'NumberOfEmployees', 'BillingAddress.Country'];
  return {
    name,
    topic: options.topic,
    startFrom: options.startFrom ?? 'EARLIEST',
    prepare: prepareWith(name, options, true),
    handle(event, db, prepared): HandleOutcome {
      const change = begin(name, event, db);
      if (!change) return 'duplicate';
      if (needsResync(change)) {
        requestResync(db, name, event, change);
        return 'applied';
      }
      const now = new Date().toISOString();
      let applied = 0;
      for (const accountId of change.header.recordIds) {
        const row = db
          .prepare(
            'SELECT industry, annual_revenue, employees, country, last_commit_timestamp FROM event_driven_segment_members WHERE account_id = ?'
          )
          .get(accountId) as SegmentRow | undefined;
        if (row && row.last_commit_timestamp > change.header.commitTimestamp) continue;
        const snapshot = prepared?.snapshots?.get(accountId);
        const deleted = isDelete(change, snapshot);
        const values = incoming(change, fields, snapshot ?? undefined);
        const pick = <T>(field: string, current: T | null): T | null =>
          values.has(field) ? ((values.get(field) as T | null) ?? null) : current;
        const industry = pick<string>('Industry', row?.industry ?? null);
        const revenue = pick<number>('AnnualRevenue', row?.annual_revenue ?? null);
        const employees = pick<number>('NumberOfEmployees', row?.employees ?? null);
        const country = pick<string>('BillingAddress.Country', row?.country ?? null);
        db.prepare(
          `INSERT INTO event_driven_segment_members (account_id, industry, annual_revenue, employees, country, segment, deleted,
             last_commit_timestamp, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (account_id) DO UPDATE SET industry = excluded.industry, annual_revenue = excluded.annual_revenue,
             employees = excluded.employees, country = excluded.country, segment = excluded.segment,
             deleted = excluded.deleted, last_commit_timestamp = excluded.last_commit_timestamp,
             updated_at = excluded.updated_at`
        ).run(
          accountId,
          industry,
          revenue,
          employees,
          country,
          segmentOf(revenue, employees),
          deleted ? 1 : 0,
          change.header.commitTimestamp,
          now
        );
        applied += 1;
      }
      return applied > 0 ? 'applied' : 'duplicate';
    }
  };
}

/** Analytics: the change history (one row per record) and daily counts per change type. */
export function createAnalyticsConsumer(options: ConsumerOptions): EventConsumer<Prepared> {
  const name: ConsumerName = 'analytics';
  return {
    name,
    topic: options.topic,
    startFrom: options.startFrom ?? 'EARLIEST',
    prepare: prepareWith(name, options, false),
    handle(event, db): HandleOutcome {
      const change = begin(name, event, db);
      if (!change) return 'duplicate';
      const { header } = change;
      if (needsResync(change)) requestResync(db, name, event, change);
      const recordIds = header.recordIds.length > 0 ? header.recordIds : ['*'];
      const insert = db.prepare(
        `INSERT INTO event_driven_change_history (event_id, record_id, change_type, changed_fields, nulled_fields,
           commit_timestamp, transaction_key, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, record_id) DO NOTHING`
      );
      const now = new Date().toISOString();
      let records = 0;
      for (const recordId of recordIds) {
        records += insert.run(
          event.id,
          recordId,
          header.changeType,
          JSON.stringify(header.changedFields),
          JSON.stringify(header.nulledFields),
          header.commitTimestamp,
          header.transactionKey,
          now
        ).changes;
      }
      if (records === 0) return 'duplicate';
      db.prepare(
        `INSERT INTO event_driven_change_counts (day, change_type, events, records) VALUES (?, ?, 1, ?)
         ON CONFLICT (day, change_type) DO UPDATE SET events = events + 1, records = records + excluded.records`
      ).run(
        new Date(header.commitTimestamp).toISOString().slice(0, 10),
        header.changeType,
        records
      );
      return 'applied';
    }
  };
}

/** The consumers by name. */
export function createConsumers(
  options: ConsumerOptions
): Record<ConsumerName, EventConsumer<Prepared>> {
  return {
    'erp-customer-master': createCustomerMasterConsumer(options),
    'marketing-segments': createSegmentsConsumer(options),
    analytics: createAnalyticsConsumer(options)
  };
}
