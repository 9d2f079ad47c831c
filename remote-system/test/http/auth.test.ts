import { bearerToken, secretsMatch } from '../../src/auth/bearer';
import { TEST_SECRET, auth, getJson, startServer, type RunningServer } from '../support';

describe('constant-time secret comparison', () => {
  it('matches only the exact secret, whatever the lengths', () => {
    expect(secretsMatch(TEST_SECRET, TEST_SECRET)).toBe(true);
    expect(secretsMatch(`${TEST_SECRET}x`, TEST_SECRET)).toBe(false);
    expect(secretsMatch(TEST_SECRET.slice(0, -1), TEST_SECRET)).toBe(false);
    expect(secretsMatch('', TEST_SECRET)).toBe(false);
    expect(secretsMatch(TEST_SECRET.toUpperCase(), TEST_SECRET)).toBe(false);
  });

  it('parses only well-formed bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('inbound bearer authentication over HTTP', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('answers 401 in the shared shape without a token', async () => {
    const res = await getJson(`${server.baseUrl}/demo/echo`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="erp"');
    expect(res.body).toEqual({
      error: {
        status: 401,
        code: 'UNAUTHORIZED',
        message: expect.stringContaining('Missing bearer token')
      },
      correlationId: res.headers.get('x-correlation-id')
    });
  });

  it('answers 401 with a wrong token or another scheme', async () => {
    for (const authorization of [`Bearer ${TEST_SECRET}x`, 'Bearer nope', `Basic ${TEST_SECRET}`]) {
      const res = await getJson(`${server.baseUrl}/demo/echo`, { headers: { authorization } });
      expect(res.status).toBe(401);
      expect((res.body as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
  });

  it('checks the token before reading the body', async () => {
    const res = await getJson(`${server.baseUrl}/demo/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json'
    });
    expect(res.status).toBe(401);
  });

  it('lets the right token through', async () => {
    const res = await getJson(`${server.baseUrl}/demo/echo`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, customers: 25 });
  });

  it('keeps the console, health and OpenAPI document open', async () => {
    for (const path of [
      '/',
      '/console/app.js',
      '/console/styles.css',
      '/console/api/state',
      '/health',
      '/openapi.json'
    ]) {
      const res = await fetch(`${server.baseUrl}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      await res.arrayBuffer();
    }
  });

  it('documents the bearer requirement in the OpenAPI document', async () => {
    const res = await getJson(`${server.baseUrl}/openapi.json`);
    const doc = res.body as {
      paths: Record<
        string,
        Record<string, { security?: unknown; responses: Record<string, unknown> }>
      >;
    };
    expect(doc.paths['/demo/echo']?.get?.security).toEqual([{ erpBearer: [] }]);
    expect(doc.paths['/demo/echo']?.get?.responses['401']).toBeDefined();
    expect(doc.paths['/health']?.get?.security).toBeUndefined();
    expect(doc.paths['/demo/items']?.post).toMatchObject({
      requestBody: {
        content: { 'application/json': { schema: { required: ['name', 'quantity'] } } }
      }
    });
    expect(Object.keys(doc.paths)).not.toContain('/console/api/state');
  });
});

describe('console access restricted to this machine', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ config: { CONSOLE_ACCESS: 'local' } });
  });
  afterAll(() => server.close());

  it('serves loopback browsers but refuses anything that came through a proxy or tunnel', async () => {
    expect((await fetch(`${server.baseUrl}/console/api/state`)).status).toBe(200);
    const proxied = await getJson(`${server.baseUrl}/console/api/state`, {
      headers: { 'x-forwarded-for': '203.0.113.9' }
    });
    expect(proxied.status).toBe(403);
    expect((proxied.body as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    // Pattern routes are unaffected: the org reaches them through the tunnel.
    const pattern = await fetch(`${server.baseUrl}/demo/echo`, {
      headers: { ...auth, 'x-forwarded-for': '203.0.113.9' }
    });
    expect(pattern.status).toBe(200);
  });
});
