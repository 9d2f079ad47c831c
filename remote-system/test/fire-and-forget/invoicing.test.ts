import {
  loadFireAndForgetConfig,
  type FireAndForgetConfig
} from '../../src/fire-and-forget/config';
import { startInvoiceSubscriber, type InvoiceSubscriber } from '../../src/fire-and-forget/runner';
import { createSalesforceAuth } from '../../src/salesforce/auth';
import { startSalesforceStandIn, type SalesforceStandIn } from '../stand-ins/salesforce-rest';
import { closedWon, readContract, startPubSubFixture, TOPIC, type PubSubFixture } from './support';

/**
 * End to end through both stand-ins: events from the local Pub/Sub API become invoices exactly once, and the invoice
 * numbers go back to the (stand-in) org through the sObject Collections API, with a 401 refresh and record errors.
 */

const COLLECTIONS = '/services/data/v67.0/composite/sobjects';

describe('fire-and-forget: invoicing and write-back', () => {
  let pubsub: PubSubFixture;
  let org: SalesforceStandIn;
  let running: InvoiceSubscriber | undefined;
  /** Opportunity ids the org answers ENTITY_IS_DELETED for. */
  const deleted = new Set<string>();
  const updated = new Map<string, Record<string, unknown>>();

  const config = (): FireAndForgetConfig =>
    loadFireAndForgetConfig({
      SF_PUBSUB_ENDPOINT: pubsub.standIn.endpoint,
      SF_PUBSUB_CA_FILE: pubsub.caFile,
      FIRE_AND_FORGET_BATCH_SIZE: '25',
      FIRE_AND_FORGET_MAX_ATTEMPTS: '2',
      FIRE_AND_FORGET_WRITEBACK_MAX_ATTEMPTS: '2'
    });

  beforeEach(async () => {
    pubsub = await startPubSubFixture();
    org = await startSalesforceStandIn({
      clientCredentials: { clientId: 'erp', clientSecret: 'secret' }
    });
    deleted.clear();
    updated.clear();
    org.route('PATCH', COLLECTIONS, (request) => {
      const body = JSON.parse(request.body.toString('utf8')) as {
        allOrNone: boolean;
        records: ({ id: string } & Record<string, unknown>)[];
      };
      return {
        status: 200,
        body: body.records.map((record) => {
          if (deleted.has(record.id)) {
            return {
              id: record.id,
              success: false,
              errors: [
                { statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }
              ]
            };
          }
          updated.set(record.id, record);
          return { id: record.id, success: true, errors: [] };
        })
      };
    });
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await org.close();
    await pubsub.close();
  });

  /** The subscriber authenticates to Pub/Sub with the test auth, and to REST with the org stand-in's OAuth. */
  const start = () => {
    const restAuth = createSalesforceAuth({
      mode: 'client-credentials',
      loginUrl: org.url,
      clientId: 'erp',
      clientSecret: 'secret',
      apiVersion: '67.0'
    });
    running = startInvoiceSubscriber({
      config: config(),
      db: pubsub.db,
      auth: {
        session: () => pubsub.auth.session(),
        refresh: (s) => pubsub.auth.refresh(s)
      },
      writeBackAuth: restAuth,
      writeBackIntervalMs: 60_000,
      initialBackoffMs: 20
    });
    return running;
  };

  const invoiceRows = () =>
    pubsub.db
      .prepare(
        `SELECT i.invoice_number AS invoiceNumber, i.salesforce_opportunity_id AS opportunityId,
           i.amount_cents AS amountCents, i.currency, i.customer_number AS customerNumber
         FROM invoices i WHERE i.invoice_number LIKE 'INV-F%' ORDER BY i.invoice_number`
      )
      .all() as Record<string, unknown>[];

  it('invoices the contract example exactly as the event describes it and writes the number back', async () => {
    const example = readContract().examples.closedWon!;
    pubsub.standIn.publish(TOPIC, [example]);
    const { subscriber } = start();
    await subscriber.waitFor((s) => s.applied === 1);
    expect(invoiceRows()).toEqual([
      {
        invoiceNumber: 'INV-F000001',
        opportunityId: example.Opportunity_Id__c,
        amountCents: 1_250_050,
        currency: 'EUR',
        customerNumber: 'C-000001'
      }
    ]);
    await running!.flushWriteBacks();
    const record = updated.get(example.Opportunity_Id__c as string)!;
    const expected = readContract().writeBack.example.records[0]!;
    expect(Object.keys(record).sort()).toEqual(Object.keys(expected).sort());
    expect(record).toMatchObject({
      attributes: { type: 'Opportunity' },
      Invoice_Number__c: 'INV-F000001',
      Invoice_Status__c: 'Invoiced'
    });
    const request = org.requests.find((r) => r.path === COLLECTIONS)!;
    expect(request.method).toBe('PATCH');
    expect(JSON.parse(request.body)).toMatchObject({ allOrNone: false });
  });

  it('creates one invoice per Opportunity even for a second event about it (a re-send), and counts it', async () => {
    pubsub.standIn.publish(TOPIC, [
      closedWon(1),
      closedWon(2),
      closedWon(1, { Correlation_Id__c: 'resend' })
    ]);
    const { subscriber } = start();
    await subscriber.waitFor((s) => s.applied + s.businessDuplicates === 3);
    expect(subscriber.stats.businessDuplicates).toBe(1);
    expect(invoiceRows().map((r) => r.opportunityId)).toEqual([
      closedWon(1).Opportunity_Id__c,
      closedWon(2).Opportunity_Id__c
    ]);
    const outcomes = pubsub.db
      .prepare('SELECT outcome, invoice_number FROM fire_and_forget_invoice_requests ORDER BY id')
      .all();
    expect(outcomes).toEqual([
      { outcome: 'created', invoice_number: 'INV-F000001' },
      { outcome: 'created', invoice_number: 'INV-F000002' },
      { outcome: 'already-invoiced', invoice_number: 'INV-F000001' }
    ]);
  });

  it('dead-letters an event for an unknown ERP customer or without an amount, and keeps invoicing others', async () => {
    const contract = readContract();
    pubsub.standIn.publish(TOPIC, [
      closedWon(1),
      contract.examples.unknownCustomer!,
      closedWon(3, { Amount__c: null }),
      closedWon(4)
    ]);
    const { subscriber } = start();
    await subscriber.waitFor((s) => s.applied === 2 && s.deadLettered === 2);
    const letters = pubsub.db
      .prepare('SELECT error, attempts FROM pubsub_dead_letters ORDER BY id')
      .all() as { error: string; attempts: number }[];
    expect(letters).toEqual([
      { error: 'Unknown ERP customer C-999999', attempts: 2 },
      { error: 'Amount__c must be a non-negative number', attempts: 2 }
    ]);
  });

  it('refreshes the org session after a 401 and retries record errors until they give up', async () => {
    pubsub.standIn.publish(TOPIC, [closedWon(1), closedWon(2)]);
    deleted.add(closedWon(2).Opportunity_Id__c as string);
    const { subscriber, writeBack } = start();
    await subscriber.waitFor((s) => s.applied === 2);
    await running!.flushWriteBacks();
    expect(updated.has(closedWon(1).Opportunity_Id__c as string)).toBe(true);

    org.revokeTokens();
    pubsub.db.prepare('UPDATE fire_and_forget_invoice_requests SET next_attempt_at = NULL').run();
    const retry = await writeBack!.drain();
    expect(retry).toEqual({ sent: 1, succeeded: 0, failed: 1 });
    expect(org.tokenRequests.filter((t) => t.ok)).toHaveLength(2);
    const rows = pubsub.db
      .prepare(
        'SELECT writeback_status, writeback_attempts, writeback_error FROM fire_and_forget_invoice_requests ORDER BY id'
      )
      .all();
    expect(rows).toEqual([
      { writeback_status: 'done', writeback_attempts: 1, writeback_error: null },
      {
        writeback_status: 'failed',
        writeback_attempts: 2,
        writeback_error: 'ENTITY_IS_DELETED: entity is deleted'
      }
    ]);
  });
});
