import type Database from 'better-sqlite3';
import type { SalesforceAuth, SalesforceSession } from '../salesforce/auth';
import { INVOICED_STATUS, WRITE_BACK_FIELDS } from './contract';

/** The sObject Collections API updates at most 200 records per request. */
export const MAX_RECORDS_PER_REQUEST = 200;

export interface WriteBackOptions {
  readonly db: Database.Database;
  readonly auth: SalesforceAuth;
  /** Attempts per record before it is marked `failed` (a person re-queues it from the console). Default 5. */
  readonly maxAttempts?: number;
  /** First retry delay; doubles per attempt. Default 5 s. */
  readonly retryBaseMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

export interface WriteBackResult {
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
}

interface PendingRow {
  id: number;
  opportunity_id: string;
  invoice_number: string;
  received_at: string;
  writeback_attempts: number;
}

interface CollectionResult {
  id?: string;
  success: boolean;
  errors?: { statusCode?: string; message?: string }[];
}

/**
 * Sends invoice numbers back to Salesforce from the outbox (`fire_and_forget_invoice_requests` rows with
 * `writeback_status = 'pending'`), after the invoice is committed: the event's effect never waits on, or is lost
 * with, a call to the org. One `PATCH /services/data/vXX.X/composite/sobjects` (sObject Collections, `allOrNone:
 * false`) per 200 rows sets `Invoice_Number__c`, `Invoice_Status__c = Invoiced` and `Invoiced_At__c`. The update is
 * idempotent (the same values again), so a retry after a lost answer is harmless. A 401 refreshes the session through
 * {@link SalesforceAuth} once; a record error or a failed request schedules a retry with exponential backoff, and
 * after `maxAttempts` the row is `failed` for a person to look at.
 */
export class InvoiceWriteBack {
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => Date;

  constructor(private readonly options: WriteBackOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 5_000;
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? (() => new Date());
  }

  /** Rows waiting for a write-back whose retry time has come. */
  pendingCount(): number {
    return this.options.db
      .prepare(
        `SELECT count(*) FROM fire_and_forget_invoice_requests WHERE writeback_status = 'pending'
           AND (next_attempt_at IS NULL OR next_attempt_at <= ?)`
      )
      .pluck()
      .get(this.now().toISOString()) as number;
  }

  /** Sends every due row, 200 per request; returns what happened. */
  async drain(): Promise<WriteBackResult> {
    let sent = 0;
    let succeeded = 0;
    let failed = 0;
    for (;;) {
      const rows = this.options.db
        .prepare(
          `SELECT id, opportunity_id, invoice_number, received_at, writeback_attempts
           FROM fire_and_forget_invoice_requests
           WHERE writeback_status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
           ORDER BY id LIMIT ?`
        )
        .all(this.now().toISOString(), MAX_RECORDS_PER_REQUEST) as PendingRow[];
      if (rows.length === 0) break;
      const results = await this.send(rows);
      sent += rows.length;
      this.options.db.transaction(() => {
        rows.forEach((row, index) => {
          const result = results[index];
          if (result?.success) {
            succeeded += 1;
            this.options.db
              .prepare(
                `UPDATE fire_and_forget_invoice_requests SET writeback_status = 'done',
                   writeback_attempts = writeback_attempts + 1, writeback_error = NULL, next_attempt_at = NULL
                 WHERE id = ?`
              )
              .run(row.id);
          } else {
            failed += 1;
            const error =
              result?.errors
                ?.map((e) => `${e.statusCode ?? 'ERROR'}: ${e.message ?? ''}`)
                .join('; ') || 'no result for this record';
            this.scheduleRetry(row, error);
          }
        });
      })();
    }
    return { sent, succeeded, failed };
  }

  private scheduleRetry(row: PendingRow, error: string): void {
    const attempts = row.writeback_attempts + 1;
    const giveUp = attempts >= this.maxAttempts;
    const next = new Date(
      this.now().getTime() + this.retryBaseMs * 2 ** (attempts - 1)
    ).toISOString();
    this.options.db
      .prepare(
        `UPDATE fire_and_forget_invoice_requests SET writeback_status = ?, writeback_attempts = ?,
           writeback_error = ?, next_attempt_at = ? WHERE id = ?`
      )
      .run(
        giveUp ? 'failed' : 'pending',
        attempts,
        error.slice(0, 2000),
        giveUp ? null : next,
        row.id
      );
  }

  /** One sObject Collections update; a request-level failure becomes a failed result for every row. */
  private async send(rows: PendingRow[]): Promise<CollectionResult[]> {
    const body = JSON.stringify({
      allOrNone: false,
      records: rows.map((row) => ({
        attributes: { type: 'Opportunity' },
        id: row.opportunity_id,
        [WRITE_BACK_FIELDS.invoiceNumber]: row.invoice_number,
        [WRITE_BACK_FIELDS.invoiceStatus]: INVOICED_STATUS,
        [WRITE_BACK_FIELDS.invoicedAt]: row.received_at
      }))
    });
    const attempt = async (session: SalesforceSession): Promise<Response> =>
      this.fetchImpl(
        `${session.instanceUrl}/services/data/v${session.apiVersion}/composite/sobjects`,
        {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${session.accessToken}`,
            'content-type': 'application/json',
            accept: 'application/json'
          },
          body,
          signal: AbortSignal.timeout(30_000)
        }
      );
    const failAll = (message: string): CollectionResult[] =>
      rows.map(() => ({ success: false, errors: [{ statusCode: 'REQUEST_FAILED', message }] }));
    try {
      let session = await this.options.auth.session();
      let response = await attempt(session);
      if (response.status === 401) {
        session = await this.options.auth.refresh(session);
        response = await attempt(session);
      }
      const text = await response.text();
      if (!response.ok) return failAll(`HTTP ${response.status}: ${text.slice(0, 500)}`);
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed))
        return failAll('sObject Collections answered without a result array');
      return parsed as CollectionResult[];
    } catch (error) {
      return failAll((error as Error).message);
    }
  }
}

/** Puts write-backs that gave up (`failed`) back in the queue (console action). Returns how many. */
export function requeueFailedWriteBacks(db: Database.Database): number {
  return db
    .prepare(
      `UPDATE fire_and_forget_invoice_requests SET writeback_status = 'pending', writeback_attempts = 0,
         next_attempt_at = NULL WHERE writeback_status = 'failed'`
    )
    .run().changes;
}
