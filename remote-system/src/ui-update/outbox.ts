import type Database from 'better-sqlite3';
import type { PubSubPublisher, PublishOutcome } from '../salesforce/pubsub';

/** States of an outbox row: `rejected` (Salesforce refused the event) and `failed` (transport) wait for a re-queue. */
export type OutboxState = 'pending' | 'published' | 'rejected' | 'failed';

export interface OutboxRow {
  readonly eventId: string;
  readonly shipmentNumber: string;
  readonly customerNumber: string;
  readonly status: string;
  readonly previousStatus: string | null;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly replayId: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DrainResult {
  readonly sent: number;
  readonly published: number;
  readonly rejected: number;
  readonly failed: number;
}

/** Rows read per drain round: up to 10 requests of 200 events. */
const DRAIN_CHUNK = 2000;
/** Published rows kept for the console; older ones are deleted after each drain. */
const KEEP_PUBLISHED = 10_000;

const SELECT_COLUMNS = `event_id AS eventId, shipment_number AS shipmentNumber, customer_number AS customerNumber,
  status, previous_status AS previousStatus, state, attempts, replay_id AS replayId, error_code AS errorCode,
  error_message AS errorMessage, created_at AS createdAt, updated_at AS updatedAt`;

/**
 * Sends the outbox's pending events through a {@link PubSubPublisher} and records every outcome: the replay id of a
 * published event, or the code and message of a rejected or failed one (which then stays in the outbox, visible on
 * the console, until {@link OutboxPublisher.requeue}). One drain at a time; a drain asked for while one runs runs
 * again right after it.
 */
export class OutboxPublisher {
  private draining?: Promise<DrainResult>;
  private again = false;
  private readonly pendingRows: Database.Statement;
  private readonly markPublished: Database.Statement;
  private readonly markFailed: Database.Statement;
  private readonly prune: Database.Statement;
  private readonly record: (outcomes: readonly PublishOutcome[]) => void;

  constructor(
    private readonly db: Database.Database,
    private readonly publisher: PubSubPublisher,
    private readonly onOutcome?: (outcome: PublishOutcome) => void
  ) {
    this.pendingRows = db.prepare(
      `SELECT event_id AS eventId, payload_json AS payloadJson FROM ui_update_outbox
       WHERE state = 'pending' ORDER BY created_at, rowid LIMIT ?`
    );
    this.markPublished = db.prepare(
      `UPDATE ui_update_outbox SET state = 'published', attempts = attempts + ?, replay_id = ?, error_code = NULL,
         error_message = NULL, updated_at = ? WHERE event_id = ?`
    );
    this.markFailed = db.prepare(
      `UPDATE ui_update_outbox SET state = ?, attempts = attempts + ?, error_code = ?, error_message = ?,
         updated_at = ? WHERE event_id = ?`
    );
    this.prune = db.prepare(
      `DELETE FROM ui_update_outbox WHERE state = 'published' AND rowid <
         (SELECT rowid FROM ui_update_outbox WHERE state = 'published' ORDER BY rowid DESC LIMIT 1 OFFSET ?)`
    );
    this.record = db.transaction((outcomes: readonly PublishOutcome[]) => {
      const now = new Date().toISOString();
      for (const outcome of outcomes) {
        if (outcome.status === 'published') {
          this.markPublished.run(outcome.attempts, outcome.replayId, now, outcome.id);
        } else {
          this.markFailed.run(
            outcome.status,
            outcome.attempts,
            outcome.code,
            outcome.message.slice(0, 1000),
            now,
            outcome.id
          );
        }
      }
      this.prune.run(KEEP_PUBLISHED);
    });
  }

  /** Publishes every pending event (in rounds of 2,000) and resolves with the totals. */
  drain(): Promise<DrainResult> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      const total = { sent: 0, published: 0, rejected: 0, failed: 0 };
      do {
        this.again = false;
        for (;;) {
          const rows = this.pendingRows.all(DRAIN_CHUNK) as {
            eventId: string;
            payloadJson: string;
          }[];
          if (rows.length === 0) break;
          const outcomes = await this.publisher.publish(
            rows.map((row) => ({
              id: row.eventId,
              payload: JSON.parse(row.payloadJson) as Record<string, unknown>
            }))
          );
          this.record(outcomes);
          total.sent += rows.length;
          for (const outcome of outcomes) {
            total[outcome.status] += 1;
            this.onOutcome?.(outcome);
          }
        }
      } while (this.again);
      return total;
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** Resolves when no drain is running (after the current one, if any). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining.catch(() => undefined);
  }

  /** Puts rejected and failed events back to pending; returns how many. */
  requeue(): number {
    return this.db
      .prepare(
        `UPDATE ui_update_outbox SET state = 'pending', updated_at = ? WHERE state IN ('rejected', 'failed')`
      )
      .run(new Date().toISOString()).changes;
  }
}

/** Counts by state. */
export function outboxCounts(db: Database.Database): Record<OutboxState, number> {
  const counts: Record<OutboxState, number> = { pending: 0, published: 0, rejected: 0, failed: 0 };
  for (const row of db
    .prepare('SELECT state, count(*) AS n FROM ui_update_outbox GROUP BY state')
    .all() as { state: OutboxState; n: number }[]) {
    counts[row.state] = row.n;
  }
  return counts;
}

/** Rows in the given states, newest first. */
export function outboxRows(
  db: Database.Database,
  states: readonly OutboxState[],
  limit: number
): OutboxRow[] {
  const placeholders = states.map(() => '?').join(', ');
  return db
    .prepare(
      `SELECT ${SELECT_COLUMNS} FROM ui_update_outbox WHERE state IN (${placeholders})
       ORDER BY updated_at DESC, rowid DESC LIMIT ?`
    )
    .all(...states, limit) as OutboxRow[];
}
