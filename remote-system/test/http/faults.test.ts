import type { FastifyRequest } from 'fastify';
import { InMemoryFaultSettings, DEFAULT_FAULT_PROFILE, planFaults } from '../../src/faults';
import { auth, demoPattern, getJson, startServer, type RunningServer } from '../support';

const echo = (server: RunningServer, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  getJson(`${server.baseUrl}/demo/echo`, { headers: { ...auth, ...headers }, signal });

const putFaults = (
  server: RunningServer,
  pattern: string,
  body: unknown,
  contentType = 'application/json'
) =>
  getJson(`${server.baseUrl}/console/api/faults/${pattern}`, {
    method: 'PUT',
    headers: { 'content-type': contentType },
    body: JSON.stringify(body)
  });

describe('fault injection through headers and console knobs', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ patterns: [demoPattern({ maxHangMs: 400 })] });
  });
  afterAll(() => server.close());
  afterEach(async () => {
    await putFaults(server, 'demo', { latencyMs: 0, errorRate: 0, errorStatus: 503, hang: false });
  });

  it('X-Fault-Status answers with that status in the shared error shape', async () => {
    const res = await echo(server, { 'x-fault-status': '503' });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { status: 503, code: 'INJECTED_FAULT' } });
    expect(
      server.app.erp.traffic
        .recent()
        .some((e) => e.kind === 'note' && e.message === 'Injected HTTP 503')
    ).toBe(true);
  });

  it('X-Fault-Latency-Ms delays the answer', async () => {
    const started = Date.now();
    const res = await echo(server, { 'x-fault-latency-ms': '250' });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('rejects malformed fault headers with 400 and the header names', async () => {
    const res = await echo(server, {
      'x-fault-status': '200',
      'x-fault-latency-ms': '-1',
      'x-fault-error-rate': '2',
      'x-fault-hang': 'maybe'
    });
    expect(res.status).toBe(400);
    const fields = (res.body as { error: { fields: { field: string }[] } }).error.fields.map(
      (f) => f.field
    );
    expect(fields).toEqual([
      'header.x-fault-latency-ms',
      'header.x-fault-status',
      'header.x-fault-error-rate',
      'header.x-fault-hang'
    ]);
  });

  it('console knobs apply to every request of the pattern until reset; headers override them', async () => {
    const set = await putFaults(server, 'demo', { errorRate: 1, errorStatus: 502 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      pattern: 'demo',
      faults: { latencyMs: 0, errorRate: 1, errorStatus: 502, hang: false }
    });
    expect((await echo(server)).status).toBe(502);
    expect((await echo(server, { 'x-fault-error-rate': '0' })).status).toBe(200);
    const state = await getJson(`${server.baseUrl}/console/api/state`);
    expect(state.body).toMatchObject({
      patterns: [{ name: 'demo', faults: { errorRate: 1, errorStatus: 502 } }]
    });
    await putFaults(server, 'demo', { errorRate: 0 });
    expect((await echo(server)).status).toBe(200);
  });

  it('validates knob changes', async () => {
    expect((await putFaults(server, 'demo', { errorStatus: 200 })).status).toBe(400);
    expect((await putFaults(server, 'demo', { latencyMs: 1, colour: 'red' })).status).toBe(400);
    expect((await putFaults(server, 'demo', {})).status).toBe(400);
    expect((await putFaults(server, 'nope', { latencyMs: 1 })).status).toBe(404);
    expect((await putFaults(server, 'demo', { latencyMs: 1 }, 'text/plain')).status).toBe(415);
    expect(server.app.erp.faults.get('demo')).toEqual(DEFAULT_FAULT_PROFILE);
  });

  it('with the knobs quiet, a fault header is still read: an empty one is a 400, a valid one applies', async () => {
    const empty = await echo(server, { 'x-fault-latency-ms': '' });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toContain('header.x-fault-latency-ms');
    expect((await echo(server, { 'x-fault-hang': 'false', 'x-fault-status': '502' })).status).toBe(
      502
    );
    expect((await echo(server)).status).toBe(200);
  });

  it('a hang ends with 504 after the ceiling when the caller waits', async () => {
    const started = Date.now();
    const res = await echo(server, { 'x-fault-hang': 'true' });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('a hang stops when the caller gives up, and the server keeps serving', async () => {
    await putFaults(server, 'demo', { hang: true });
    const id = 'gave-up-1';
    await expect(
      echo(server, { 'x-correlation-id': id }, AbortSignal.timeout(150))
    ).rejects.toThrow();
    // The console shows the abandoned request as 499 (client closed request).
    for (
      let i = 0;
      i < 40 && !server.app.erp.traffic.recent().some((e) => e.correlationId === id);
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const abandoned = server.app.erp.traffic.recent().filter((e) => e.correlationId === id);
    expect(abandoned).toEqual([
      expect.objectContaining({ kind: 'request', status: 499, pattern: 'demo' })
    ]);
    // Timed from the request's arrival, not from the abort: the caller waited 150 ms.
    expect((abandoned[0] as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(100);
    await putFaults(server, 'demo', { hang: false });
    expect((await echo(server)).status).toBe(200);
  });
});

describe('fault plan and settings', () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

  it('draws the error rate with the given random source', () => {
    const profile = { ...DEFAULT_FAULT_PROFILE, errorRate: 0.5, errorStatus: 500 };
    expect(planFaults(profile, request({}), () => 0.49)).toEqual({
      ok: true,
      plan: { latencyMs: 0, hang: false, errorStatus: 500 }
    });
    expect(planFaults(profile, request({}), () => 0.5)).toEqual({
      ok: true,
      plan: { latencyMs: 0, hang: false, errorStatus: null }
    });
  });

  it('settings merge, validate and notify', () => {
    const settings = new InMemoryFaultSettings();
    const seen: string[] = [];
    settings.onChange((pattern, profile) => seen.push(`${pattern}:${profile.latencyMs}`));
    expect(settings.set('a', { latencyMs: 100 })).toEqual({
      ...DEFAULT_FAULT_PROFILE,
      latencyMs: 100
    });
    expect(settings.set('a', { hang: true })).toEqual({
      ...DEFAULT_FAULT_PROFILE,
      latencyMs: 100,
      hang: true
    });
    expect(settings.get('b')).toEqual(DEFAULT_FAULT_PROFILE);
    expect(() => settings.set('a', { errorRate: 1.5 })).toThrow(/errorRate/);
    expect(() => settings.set('a', { latencyMs: 200_000 })).toThrow(/latencyMs/);
    expect(seen).toEqual(['a:100', 'a:100']);
  });
});
