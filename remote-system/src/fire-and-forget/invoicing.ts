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

/** The consumer's statements, prepared once per database (preparing per event halved the throughput). */
function statements(db: Database.Database): Statements {
  let prepared = PREPARED.get(db);
  if (!prepared) {
    prepared = {
      customer: db.prepare('SELECT on_hold FROM customers WHERE customer_number = ?'),
      existing: db
        .prepare('SELECT invoice_number FROM invoices WHERE salesforce_opportunity_id = ?')
        .pluck(),
      nextId: db
        .prepare('SELECT coalesce(max(id), 0) + 1 FROM fire_and_forget_invoice_requests')
        .pluck(),
      invoice: db.prepare(
        `INSERT INTO invoices (invoice_number, customer_number, salesforce_opportunity_id, status, issued_on, due_on,
           amount_cents, currency, created_at)
         VALUES (?, ?, ?, 'Open', ?, ?, ?, ?, ?)`
      ),
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
  readonly nextId: Database.Statement;
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
      const customer = sql.customer.get(request.erpCustomerNumber) as
        { on_hold: number } | undefined;
      if (!customer) {
        throw new InvalidInvoiceEvent(`Unknown ERP customer ${request.erpCustomerNumber}`);
      }
      const at = now();
      const existing = sql.existing.get(request.opportunityId) as string | undefined;

      let invoiceNumber = existing;
      if (invoiceNumber === undefined) {
        const next = sql.nextId.get() as number;
        invoiceNumber = `INV-F${String(next).padStart(6, '0')}`;
        const issued = at.toISOString().slice(0, 10);
        const due = new Date(at.getTime() + PAYMENT_TERMS_DAYS * 86_400_000)
          .toISOString()
          .slice(0, 10);
        sql.invoice.run(
          invoiceNumber,
          request.erpCustomerNumber,
          request.opportunityId,
          issued,
          due,
          request.amountCents,
          request.currency,
          at.toISOString()
        );
      }
      sql.request.run(
        event.id,
        event.replayId,
        request.opportunityId,
        invoiceNumber,
        request.correlationId,
        request.lineSummary,
        existing === undefined ? 'created' : 'already-invoiced',
        at.toISOString()
      );
      return existing === undefined ? 'applied' : 'duplicate';
    }
  };
}
