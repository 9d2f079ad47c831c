import { createUiUpdateModule } from '../../src/ui-update';
import { startTestServer, type TestServer } from '../support';
import { startShipmentEvents, type ShipmentEventsFixture } from './support';

/** The console routes through the real server (bearer auth, SQLite) with the publisher on the local Pub/Sub API. */
describe('ui-update routes', () => {
  let fixture: ShipmentEventsFixture;
  let server: TestServer;

  beforeEach(async () => {
    fixture = await startShipmentEvents();
    server = await startTestServer({
      patterns: [createUiUpdateModule({ config: fixture.config, auth: fixture.auth, tickMs: 20 })]
    });
  });
  afterEach(async () => {
    await server.close();
    await fixture.close();
  });

  const json = (body: unknown): RequestInit => ({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  });

  it('steps shipments, publishes them and reports the counts', async () => {
    const step = await server.request('/ui-update/step', { method: 'POST', ...json({ count: 5 }) });
    expect(step.status).toBe(200);
    expect(step.json<{ changes: unknown[] }>().changes).toHaveLength(5);
    let status = (await server.request('/ui-update/status')).json<{
      outbox: { published: number };
    }>();
    for (let i = 0; i < 50 && status.outbox.published < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await server.request('/ui-update/status')).json();
    }
    expect(status.outbox.published).toBe(5);
    expect(fixture.standIn.events(fixture.config.topic)).toHaveLength(5);
  });

  it('sets the rate from the console, and 0 stops the simulator', async () => {
    const started = await server.request('/ui-update/rate', {
      method: 'PUT',
      ...json({ ratePerSecond: 50 })
    });
    expect(started.json()).toMatchObject({ running: true, ratePerSecond: 50 });
    const stopped = await server.request('/ui-update/rate', {
      method: 'PUT',
      ...json({ ratePerSecond: 0 })
    });
    expect(stopped.json()).toMatchObject({ running: false });
    const bad = await server.request('/ui-update/rate', {
      method: 'PUT',
      ...json({ ratePerSecond: 5000 })
    });
    expect(bad.status).toBe(400);
  });

  it('lists a rejected event with its reason and re-queues it', async () => {
    fixture.standIn.rejectNextEvents(1, { code: 'COMMIT', msg: 'refused' });
    await server.request('/ui-update/step', { method: 'POST', ...json({ count: 1 }) });
    let failures = (await server.request('/ui-update/failures')).json<{
      items: { errorCode: string }[];
    }>();
    for (let i = 0; i < 50 && failures.items.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      failures = (await server.request('/ui-update/failures')).json();
    }
    expect(failures.items).toEqual([
      expect.objectContaining({ state: 'rejected', errorCode: 'COMMIT', errorMessage: 'refused' })
    ]);
    const requeue = await server.request('/ui-update/failures/requeue', { method: 'POST' });
    expect(requeue.json()).toEqual({ requeued: 1 });
  });
});

describe('ui-update routes without a Salesforce connection', () => {
  it('answer 409 naming the settings to set, instead of queueing events nobody sends', async () => {
    const fixture = await startShipmentEvents();
    const server = await startTestServer({
      patterns: [createUiUpdateModule({ config: fixture.config, salesforce: { mode: 'none' } })]
    });
    try {
      const response = await server.request('/ui-update/rate', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ratePerSecond: 5 })
      });
      expect(response.status).toBe(409);
      expect(response.json()).toMatchObject({
        error: {
          code: 'SALESFORCE_NOT_CONFIGURED',
          message: expect.stringMatching(/SF_INSTANCE_URL/)
        }
      });
      expect((await server.request('/ui-update/status')).json()).toMatchObject({ running: false });
    } finally {
      await server.close();
      await fixture.close();
    }
  });
});
