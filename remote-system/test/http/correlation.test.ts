import { randomUUID } from 'node:crypto';
import { isValidCorrelationId } from '../../src/http';
import { auth, startServer, type RunningServer } from '../support';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('correlation ids', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ captureLogs: true });
  });
  afterAll(() => server.close());

  it('echoes a valid caller id on the response and in every log line of the request', async () => {
    const id = `sf-${randomUUID()}`;
    const res = await fetch(`${server.baseUrl}/demo/echo`, {
      headers: { ...auth, 'x-correlation-id': id }
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe(id);
    await res.text();
    const lines = server.logs.filter((line) => line.correlationId === id);
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'request completed'])
    );
    // No request log line lacks the id.
    expect(
      server.logs
        .filter((line) => 'req' in line || 'res' in line)
        .every((line) => 'correlationId' in line)
    ).toBe(true);
  });

  it('generates a UUID when the header is absent', async () => {
    const res = await fetch(`${server.baseUrl}/health`);
    expect(res.headers.get('x-correlation-id')).toMatch(UUID);
  });

  it('replaces ids that are too long or could forge log lines', async () => {
    for (const bad of ['x'.repeat(129), 'abc def', 'a"b', '<script>']) {
      const res = await fetch(`${server.baseUrl}/health`, { headers: { 'x-correlation-id': bad } });
      expect(res.headers.get('x-correlation-id')).toMatch(UUID);
    }
  });

  it('is returned on errors and 401s too', async () => {
    const unauthenticated = await fetch(`${server.baseUrl}/demo/echo`, {
      headers: { 'x-correlation-id': 'abc-123' }
    });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('x-correlation-id')).toBe('abc-123');
    expect(((await unauthenticated.json()) as { correlationId: string }).correlationId).toBe(
      'abc-123'
    );
    const missing = await fetch(`${server.baseUrl}/missing`, {
      headers: { 'x-correlation-id': 'abc-124' }
    });
    expect(missing.headers.get('x-correlation-id')).toBe('abc-124');
  });

  it('validates the charset and length', () => {
    expect(isValidCorrelationId(randomUUID())).toBe(true);
    expect(isValidCorrelationId('0HLq0000000Abc1:2.3_x')).toBe(true);
    expect(isValidCorrelationId('')).toBe(false);
    expect(isValidCorrelationId('a\nb')).toBe(false);
    expect(isValidCorrelationId('x'.repeat(128))).toBe(true);
  });
});
