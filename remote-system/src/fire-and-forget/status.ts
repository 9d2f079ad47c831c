import type Database from 'better-sqlite3';
import { CheckpointStore } from '../salesforce/pubsub';
import type { InvoiceRequestView, StatusResponse } from './schemas';

/** Figures for the console and `npm run subscribe`, read from the database (the subscriber may be another process). */
export function readStatus(db: Database.Database, consumer: string, topic: string): StatusResponse {
  const checkpoint = new CheckpointStore(db).get(consumer);
  const count = (sql: string, ...params: unknown[]): number =>
    db
      .prepare(sql)
      .pluck()
      .get(...params) as number;
  const letters = (status: string) =>
    count(
      'SELECT count(*) FROM pubsub_dead_letters WHERE consumer = ? AND status = ?',
      consumer,
      status
    );
  const writeBack = (status: string) =>
    count(
      'SELECT count(*) FROM fire_and_forget_invoice_requests WHERE writeback_status = ?',
      status
    );
  return {
    consumer,
    topic,
    checkpoint: checkpoint
      ? { replayId: checkpoint.replayId, updatedAt: checkpoint.updatedAt }
      : null,
    eventsReceived: checkpoint?.eventsReceived ?? 0,
    duplicatesIgnored: checkpoint?.duplicatesIgnored ?? 0,
    invoicesCreated: count(
      "SELECT count(*) FROM fire_and_forget_invoice_requests WHERE outcome = 'created'"
    ),
    alreadyInvoiced: count(
      "SELECT count(*) FROM fire_and_forget_invoice_requests WHERE outcome = 'already-invoiced'"
    ),
    deadLetters: {
      open: letters('open'),
      replayed: letters('replayed'),
      discarded: letters('discarded')
    },
    writeBack: {
      pending: writeBack('pending'),
      done: writeBack('done'),
      failed: writeBack('failed')
    }
  };
}

export function recentInvoiceRequests(db: Database.Database, limit: number): InvoiceRequestView[] {
  return db
    .prepare(
      `SELECT event_id AS eventId, replay_id AS replayId, opportunity_id AS opportunityId,
         invoice_number AS invoiceNumber, outcome, correlation_id AS correlationId, received_at AS receivedAt,
         writeback_status AS writeBackStatus, writeback_attempts AS writeBackAttempts,
         writeback_error AS writeBackError
       FROM fire_and_forget_invoice_requests ORDER BY id DESC LIMIT ?`
    )
    .all(limit) as InvoiceRequestView[];
}
