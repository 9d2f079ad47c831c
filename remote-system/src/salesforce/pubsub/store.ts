import type Database from 'better-sqlite3';

/**
 * Durable state of Pub/Sub consumers, in the ERP's SQLite database (tables created by migration 6):
 *
 * - `pubsub_checkpoints`: per named consumer, the replay id of the last event whose effect is committed. A restart or
 *   a reconnect resumes after it (replay preset `CUSTOM`), never from scratch.
 * - `pubsub_processed_events`: per consumer, every event id already handled (or dead-lettered), so a redelivered event
 *   (at-least-once delivery, a replay after a crash) is recognised and skipped.
 * - `pubsub_dead_letters`: events a consumer failed on `maxAttempts` times, with the error, kept for a person to
 *   replay or discard.
 *
 * The checkpoint, the ledger and the consumer's own writes share one SQLite transaction per batch: either all of a
 * batch's effects and its checkpoint are on disk, or none are.
 */

export type ProcessedOutcome = 'applied' | 'duplicate' | 'dead-lettered';

export interface Checkpoint {
  readonly consumer: string;
  readonly topic: string;
  /** Replay id as lower-case hex. */
  readonly replayId: string;
  readonly updatedAt: string;
  /** Events received by this consumer since its first checkpoint, redeliveries included. */
  readonly eventsReceived: number;
  /** Redelivered events the ledger recognised and skipped. */
  readonly duplicatesIgnored: number;
}

export interface DeadLetter {
  readonly id: number;
  readonly consumer: string;
  readonly topic: string;
  readonly eventId: string;
  readonly replayId: string;
  readonly schemaId: string;
  /** The decoded payload, or null when the event could not even be decoded. */
  readonly payload: Record<string, unknown> | null;
  readonly error: string;
  readonly attempts: number;
  readonly status: 'open' | 'replayed' | 'discarded';
  readonly createdAt: string;
  readonly resolvedAt: string | null;
}

interface DeadLetterRow {
  id: number;
  consumer: string;
  topic: string;
  event_id: string;
  replay_id: string;
  schema_id: string;
  payload_json: string | null;
  error: string;
  attempts: number;
  status: DeadLetter['status'];
  created_at: string;
  resolved_at: string | null;
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    consumer: row.consumer,
    topic: row.topic,
    eventId: row.event_id,
    replayId: row.replay_id,
    schemaId: row.schema_id,
    payload:
      row.payload_json === null ? null : (JSON.parse(row.payload_json) as Record<string, unknown>),
    error: row.error,
    attempts: row.attempts,
    status: row.status,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at
  };
}

/** Checkpoints by consumer name: several consumers of one topic each keep their own. */
export class CheckpointStore {
  private readonly getStatement: Database.Statement<[string]>;
  private readonly saveStatement: Database.Statement<
    [string, string, string, string, number, number]
  >;

  constructor(private readonly db: Database.Database) {
    this.getStatement = db.prepare(
      `SELECT consumer, topic, replay_id AS replayId, updated_at AS updatedAt, events_received AS eventsReceived,
         duplicates_ignored AS duplicatesIgnored
       FROM pubsub_checkpoints WHERE consumer = ?`
    );
    this.saveStatement = db.prepare(
      `INSERT INTO pubsub_checkpoints (consumer, topic, replay_id, updated_at, events_received, duplicates_ignored)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (consumer) DO UPDATE SET topic = excluded.topic, replay_id = excluded.replay_id,
         updated_at = excluded.updated_at, events_received = events_received + excluded.events_received,
         duplicates_ignored = duplicates_ignored + excluded.duplicates_ignored`
    );
  }

  get(consumer: string): Checkpoint | undefined {
    return this.getStatement.get(consumer) as Checkpoint | undefined;
  }

  /**
   * Call inside the transaction that commits the effects up to `replayId`; `received` and `duplicates` add to the
   * consumer's running totals.
   */
  save(consumer: string, topic: string, replayId: string, received = 0, duplicates = 0): void {
    this.saveStatement.run(
      consumer,
      topic,
      replayId,
      new Date().toISOString(),
      received,
      duplicates
    );
  }

  /** Forgets a consumer's position (it then starts from its configured preset). */
  reset(consumer: string): boolean {
    return (
      this.db.prepare('DELETE FROM pubsub_checkpoints WHERE consumer = ?').run(consumer).changes > 0
    );
  }
}

/** The per-consumer ledger of handled event ids. */
export class ProcessedEvents {
  private readonly hasStatement: Database.Statement<[string, string]>;
  private readonly recordStatement: Database.Statement<[string, string, string, string, string]>;

  constructor(db: Database.Database) {
    this.hasStatement = db.prepare(
      'SELECT 1 FROM pubsub_processed_events WHERE consumer = ? AND event_id = ?'
    );
    this.recordStatement = db.prepare(
      `INSERT INTO pubsub_processed_events (consumer, event_id, replay_id, outcome, processed_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (consumer, event_id) DO UPDATE SET outcome = excluded.outcome, processed_at = excluded.processed_at`
    );
  }

  has(consumer: string, eventId: string): boolean {
    return this.hasStatement.get(consumer, eventId) !== undefined;
  }

  /** `at`: the processing time, ISO 8601 (a batch passes one for all its events); default now. */
  record(
    consumer: string,
    eventId: string,
    replayId: string,
    outcome: ProcessedOutcome,
    at: string = new Date().toISOString()
  ): void {
    this.recordStatement.run(consumer, eventId, replayId, outcome, at);
  }
}

export interface NewDeadLetter {
  readonly consumer: string;
  readonly topic: string;
  readonly eventId: string;
  readonly replayId: string;
  readonly schemaId: string;
  readonly payload: Record<string, unknown> | null;
  /** The raw Avro bytes, kept so an undecodable event can be inspected later. */
  readonly rawPayload: Buffer;
  readonly error: string;
  readonly attempts: number;
}

/** Poison events, per consumer. */
export class DeadLetterStore {
  constructor(private readonly db: Database.Database) {}

  add(letter: NewDeadLetter): number {
    const result = this.db
      .prepare(
        `INSERT INTO pubsub_dead_letters (consumer, topic, event_id, replay_id, schema_id, payload_json, payload_avro,
           error, attempts, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`
      )
      .run(
        letter.consumer,
        letter.topic,
        letter.eventId,
        letter.replayId,
        letter.schemaId,
        letter.payload === null ? null : JSON.stringify(letter.payload),
        letter.rawPayload,
        letter.error,
        letter.attempts,
        new Date().toISOString()
      );
    return Number(result.lastInsertRowid);
  }

  list(
    consumer: string,
    options: { status?: DeadLetter['status']; limit?: number } = {}
  ): DeadLetter[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM pubsub_dead_letters WHERE consumer = ? AND (? IS NULL OR status = ?)
         ORDER BY id DESC LIMIT ?`
      )
      .all(
        consumer,
        options.status ?? null,
        options.status ?? null,
        options.limit ?? 100
      ) as DeadLetterRow[];
    return rows.map(toDeadLetter);
  }

  get(consumer: string, id: number): DeadLetter | undefined {
    const row = this.db
      .prepare('SELECT * FROM pubsub_dead_letters WHERE consumer = ? AND id = ?')
      .get(consumer, id) as DeadLetterRow | undefined;
    return row === undefined ? undefined : toDeadLetter(row);
  }

  count(consumer: string, status: DeadLetter['status'] = 'open'): number {
    return this.db
      .prepare('SELECT count(*) FROM pubsub_dead_letters WHERE consumer = ? AND status = ?')
      .pluck()
      .get(consumer, status) as number;
  }

  markResolved(id: number, status: 'replayed' | 'discarded'): void {
    this.db
      .prepare(
        "UPDATE pubsub_dead_letters SET status = ?, resolved_at = ? WHERE id = ? AND status = 'open'"
      )
      .run(status, new Date().toISOString(), id);
  }

  recordFailedReplay(id: number, error: string): void {
    this.db
      .prepare('UPDATE pubsub_dead_letters SET attempts = attempts + 1, error = ? WHERE id = ?')
      .run(error, id);
  }
}
