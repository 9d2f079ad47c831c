import type Database from 'better-sqlite3';
import type { DecodedEvent, EventConsumer, HandleOutcome } from '../salesforce/pubsub';
import { InvalidInvoiceEvent, parseInvoiceRequest } from './contract';

/** Days between issue and due date of an invoice raised from a closed-won Opportunity. */
export const PAYMENT_TERMS_DAYS = 30;

export interface InvoiceConsumerOptions {
  /** Checkpoint and ledger name; default `fire-and-forget-invoicing`. */
  readonly name?: string;
  readonly topic: string;
  readonly startFrom?: 'LATEST' | 'EARLIEST';
  /** Clock (tests). */
  readonly now?: () => Date;
}

export const DEFAULT_CONSUMER_NAME = 'fire-and-forget-invoicing';

/**
 * The consumer's statements, prepared once per database (preparing per event halved the throughput). A new invoice
 * takes three: the customer check, one `INSERT … RETURNING` that numbers the invoice and skips an Opportunity already
 * invoiced (`ON CONFLICT (salesforce_opportunity_id) DO NOTHING`: any other constraint still fails), and the request
 * row; only an already-invoiced Opportunity needs the fourth, reading the existing number.
 */
function statements(db: Database.Database): Statements {
  let prepared = PREPARED.get(db);
  if (!prepared) {
    prepared = {
      customer: db.prepare('SELECT 1 FROM customers WHERE customer_number = ?').pluck(),
      existing: db
        .prepare('SELECT invoice_number FROM invoices WHERE salesforce_opportunity_id = ?')
        .pluck(),
      // The number is INV-F + the id the request row will get, as before: max(id) + 1 of the outbox.
      invoice: db
        .prepare(
          `INSERT INTO invoices (invoice_number, customer_number, salesforce_opportunity_id, status, issued_on, due_on,
             amount_cents, currency, created_at)
           SELECT 'INV-F' || printf('%06d', coalesce(max(id), 0) + 1), ?, ?, 'Open', ?, ?, ?, ?, ?
           FROM fire_and_forget_invoice_requests WHERE true
           ON CONFLICT (salesforce_opportunity_id) DO NOTHING
           RETURNING invoice_number`
        )
        .pluck(),
      request: db.prepare(
        `INSERT INTO fire_and_forget_invoice_requests (event_id, replay_id, opportunity_id, invoice_number,
           correlation_id, line_summary, outcome, received_at, writeback_status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`
      )
    };
    PREPARED.set(db, prepared);
  }
  return prepared;
}
interface Statements {
  readonly customer: Database.Statement;
  readonly existing: Database.Statement;
  readonly invoice: Database.Statement;
  readonly request: Database.Statement;
}
const PREPARED = new WeakMap<Database.Database, Statements>();

/**
 * The ERP's effect of a closed-won Opportunity: an invoice. It runs inside the subscriber's batch transaction, so the
 * invoice, the event-id ledger entry and the replay checkpoint commit together. Two layers keep it to one invoice:
 * the ledger skips an event id seen before, and `invoices.salesforce_opportunity_id` is unique, so a *different*
 * event for an Opportunity already invoiced (a re-send after a publish failure, a re-opened and re-won deal) links to
 * the existing invoice instead of creating a second one. Either way a write-back of the invoice number is queued in
 * `fire_and_forget_invoice_requests` (the outbox), and sent to Salesforce after commit.
 */
export function createInvoiceConsumer(options: InvoiceConsumerOptions): EventConsumer {
  const now = options.now ?? (() => new Date());
  return {
    name: options.name ?? DEFAULT_CONSUMER_NAME,
    topic: options.topic,
    ...(options.startFrom ? { startFrom: options.startFrom } : {}),
    handle(event: DecodedEvent, db: Database.Database): HandleOutcome {
      const request = parseInvoiceRequest(event.payload);
      const sql = statements(db);
      if (sql.customer.get(request.erpCustomerNumber) === undefined) {
        throw new InvalidInvoiceEvent(`Unknown ERP customer ${request.erpCustomerNumber}`);
      }
      const at = now();
      const createdAt = at.toISOString();
      const due = new Date(at.getTime() + PAYMENT_TERMS_DAYS * 86_400_000).toISOString();
      const created = sql.invoice.get(
        request.erpCustomerNumber,
        request.opportunityId,
        createdAt.slice(0, 10),
        due.slice(0, 10),
        request.amountCents,
        request.currency,
        createdAt
      ) as string | undefined;
      const existing =
        created === undefined
          ? (sql.existing.get(request.opportunityId) as string | undefined)
          : undefined;
      const invoiceNumber = created ?? existing;
      if (invoiceNumber === undefined) {
        throw new Error(`No invoice for ${request.opportunityId} after inserting one`);
      }
      sql.request.run(
        event.id,
        event.replayId,
        request.opportunityId,
        invoiceNumber,
        request.correlationId,
        request.lineSummary,
        created !== undefined ? 'created' : 'already-invoiced',
        createdAt
      );
      return created !== undefined ? 'applied' : 'duplicate';
    }
  };
}
