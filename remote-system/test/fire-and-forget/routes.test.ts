import { ConfigError } from '../../src/config';
import { createFireAndForgetModule } from '../../src/fire-and-forget';
import { loadFireAndForgetConfig } from '../../src/fire-and-forget/config';
import { createInvoiceConsumer } from '../../src/fire-and-forget/invoicing';
import { DeadLetterStore } from '../../src/salesforce/pubsub';
import { startTestServer, type TestServer } from '../support';
import { closedWon, TOPIC } from './support';

/** The console API over the real server (bearer auth, SQLite): status, dead letters, replay, discard, re-queue. */
describe('fire-and-forget: console routes', () => {
  let server: TestServer;
  const config = loadFireAndForgetConfig({});

  beforeEach(async () => {
    server = await startTestServer({ patterns: [createFireAndForgetModule({ config })] });
  });
  afterEach(() => server.close());

  const addLetter = (payload: Record<string, unknown> | null, eventId = 'evt-1') =>
    new DeadLetterStore(server.db).add({
      consumer: config.consumerName,
      topic: TOPIC,
      eventId,
      replayId: '00000000000003e9',
      schemaId: 'schema-1',
      payload,
      rawPayload: Buffer.from([1, 2]),
      error: 'Unknown ERP customer C-000001',
      attempts: 3
    });

  it('reports the subscriber state from the database', async () => {
    const consumer = createInvoiceConsumer({ topic: TOPIC });
    server.db.transaction(() =>
      consumer.handle(
        { id: 'e1', replayId: '01', schemaId: 's', topic: TOPIC, payload: closedWon(1) },
        server.db
      )
    )();
    addLetter(null);
    const response = await server.request('/fire-and-forget/status');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      consumer: 'fire-and-forget-invoicing',
      topic: TOPIC,
      checkpoint: null,
      eventsReceived: 0,
      duplicatesIgnored: 0,
      invoicesCreated: 1,
      alreadyInvoiced: 0,
      deadLetters: { open: 1, replayed: 0, discarded: 0 },
      writeBack: { pending: 1, done: 0, failed: 0 }
    });
    const invoices = await server.request('/fire-and-forget/invoices?limit=5');
    expect(invoices.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({ eventId: 'e1', invoiceNumber: 'INV-F000001', outcome: 'created' })
    ]);
  });

  it('replays a dead letter through the consumer: 422 while it still fails, 200 once fixed, then 409', async () => {
    const id = addLetter(closedWon(7, { ERP_Customer_Number__c: 'C-999999' }));
    const failing = await server.request(`/fire-and-forget/dead-letters/${id}/replay`, {
      method: 'POST'
    });
    expect(failing.status).toBe(422);
    expect(failing.json()).toMatchObject({
      error: {
        code: 'REPLAY_FAILED',
        message: 'The consumer failed again: Unknown ERP customer C-999999'
      }
    });
    server.db
      .prepare('UPDATE pubsub_dead_letters SET payload_json = ? WHERE id = ?')
      .run(JSON.stringify(closedWon(7)), id);
    const ok = await server.request(`/fire-and-forget/dead-letters/${id}/replay`, {
      method: 'POST'
    });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({
      outcome: 'applied',
      deadLetter: { id, status: 'replayed', attempts: 4 }
    });
    expect(
      server.db
        .prepare("SELECT count(*) FROM invoices WHERE invoice_number LIKE 'INV-F%'")
        .pluck()
        .get()
    ).toBe(1);
    const again = await server.request(`/fire-and-forget/dead-letters/${id}/replay`, {
      method: 'POST'
    });
    expect(again.status).toBe(409);
  });

  it('discards, lists by status, and answers 404/400 for unknown or malformed ids', async () => {
    const id = addLetter(null);
    expect(
      (await server.request(`/fire-and-forget/dead-letters/${id}/replay`, { method: 'POST' }))
        .status
    ).toBe(409);
    const discarded = await server.request(`/fire-and-forget/dead-letters/${id}/discard`, {
      method: 'POST'
    });
    expect(discarded.json()).toMatchObject({ id, status: 'discarded' });
    const open = await server.request('/fire-and-forget/dead-letters?status=open');
    expect(open.json()).toEqual({ items: [] });
    expect(
      (await server.request('/fire-and-forget/dead-letters/999/discard', { method: 'POST' })).status
    ).toBe(404);
    expect(
      (await server.request('/fire-and-forget/dead-letters/abc/replay', { method: 'POST' })).status
    ).toBe(400);
    expect(
      (await server.request('/fire-and-forget/status', { headers: { authorization: '' } })).status
    ).toBe(401);
  });

  it('re-queues write-backs that gave up', async () => {
    const consumer = createInvoiceConsumer({ topic: TOPIC });
    server.db.transaction(() =>
      consumer.handle(
        { id: 'e1', replayId: '01', schemaId: 's', topic: TOPIC, payload: closedWon(1) },
        server.db
      )
    )();
    server.db
      .prepare("UPDATE fire_and_forget_invoice_requests SET writeback_status = 'failed'")
      .run();
    const response = await server.request('/fire-and-forget/write-back/requeue', {
      method: 'POST'
    });
    expect(response.json()).toEqual({ requeued: 1 });
  });
});

describe('fire-and-forget: configuration', () => {
  it('has working defaults', () => {
    expect(loadFireAndForgetConfig({})).toMatchObject({
      pubsub: { endpoint: 'api.pubsub.salesforce.com:7443' },
      topic: '/event/Opportunity_Closed_Won__e',
      batchSize: 100,
      maxAttempts: 3,
      startFrom: 'EARLIEST',
      writeBack: true
    });
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadFireAndForgetConfig({
        SF_PUBSUB_ENDPOINT: 'https://api.pubsub.salesforce.com',
        SF_PUBSUB_CA_FILE: '/does/not/exist.pem',
        FIRE_AND_FORGET_BATCH_SIZE: '101',
        FIRE_AND_FORGET_TOPIC: 'Opportunity_Closed_Won__e',
        FIRE_AND_FORGET_START_FROM: 'NOW'
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'SF_PUBSUB_ENDPOINT',
      'SF_PUBSUB_CA_FILE',
      'FIRE_AND_FORGET_BATCH_SIZE',
      'FIRE_AND_FORGET_TOPIC',
      'FIRE_AND_FORGET_START_FROM'
    ]) {
      expect(problems).toContain(name);
    }
  });
});
