import { createEventDrivenModule } from '../../src/event-driven';
import { DeadLetterStore } from '../../src/salesforce/pubsub';
import { startTestServer, type TestServer } from '../support';

/** The console API over real HTTP (bearer auth, TypeBox validation, the one error shape) and a real database. */
describe('event-driven console routes', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startTestServer({ patterns: [createEventDrivenModule()] });
  });
  afterEach(async () => {
    await server.close();
  });

  const letter = (consumer: string) =>
    new DeadLetterStore(server.db).add({
      consumer,
      topic: '/data/ERP_Customer_Changes__chn',
      eventId: `event-${consumer}`,
      replayId: '00',
      schemaId: 'schema',
      payload: { ChangeEventHeader: {} },
      rawPayload: Buffer.alloc(0),
      error: 'broken',
      attempts: 3
    });

  it('reports every consumer, and the knob breaks and heals one', async () => {
    const status = await server.request('/event-driven/status');
    expect(status.status).toBe(200);
    expect(status.json<{ consumers: { name: string; knob: string }[] }>().consumers).toEqual([
      expect.objectContaining({ name: 'erp-customer-master', knob: 'none', eventsBehind: 0 }),
      expect.objectContaining({ name: 'marketing-segments', knob: 'none' }),
      expect.objectContaining({ name: 'analytics', knob: 'none' })
    ]);
    const broken = await server.request('/event-driven/consumers/analytics/knob', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'hang' })
    });
    expect(broken.status).toBe(200);
    expect(broken.json<{ knob: string }>().knob).toBe('hang');
    const healed = await server.request('/event-driven/consumers/analytics/knob', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'none' })
    });
    expect(healed.json<{ knob: string }>().knob).toBe('none');
  });

  it('refuses an unknown consumer or mode with a 400', async () => {
    const unknown = await server.request('/event-driven/consumers/billing/knob', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'throw' })
    });
    expect(unknown.status).toBe(400);
    const mode = await server.request('/event-driven/consumers/analytics/knob', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'explode' })
    });
    expect(mode.status).toBe(400);
    expect(mode.json<{ error: { code: string } }>().error.code).toBeDefined();
  });

  it('lists a consumer’s dead letters, queues a replay for the subscriber process, and discards once', async () => {
    const id = letter('marketing-segments');
    letter('analytics');
    const list = await server.request('/event-driven/dead-letters?consumer=marketing-segments');
    expect(list.json<{ items: { id: number }[] }>().items.map((i) => i.id)).toEqual([id]);

    const replay = await server.request(`/event-driven/dead-letters/${id}/replay`, {
      method: 'POST'
    });
    expect(replay.status).toBe(202);
    expect(
      server.db
        .prepare('SELECT consumer FROM event_driven_replay_requests WHERE dead_letter_id = ?')
        .pluck()
        .get(id)
    ).toBe('marketing-segments');

    const discard = await server.request(`/event-driven/dead-letters/${id}/discard`, {
      method: 'POST'
    });
    expect(discard.json<{ status: string }>().status).toBe('discarded');
    const again = await server.request(`/event-driven/dead-letters/${id}/discard`, {
      method: 'POST'
    });
    expect(again.status).toBe(409);
    const missing = await server.request('/event-driven/dead-letters/9999/replay', {
      method: 'POST'
    });
    expect(missing.status).toBe(404);
    // another pattern's consumer shares the dead-letter table: not this pattern's to replay or discard
    const foreign = letter('invoicing');
    for (const action of ['replay', 'discard']) {
      const answer = await server.request(`/event-driven/dead-letters/${foreign}/${action}`, {
        method: 'POST'
      });
      expect(answer.status).toBe(404);
    }
  });
});
