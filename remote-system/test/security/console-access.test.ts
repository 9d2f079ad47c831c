import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_SECRET, startTestServer, type TestServer } from '../support';

/**
 * The console (fault knobs, live traffic) answers only browsers on this machine unless CONSOLE_ACCESS=open is set:
 * nothing that came through a tunnel or proxy, nothing addressed to another host name (DNS rebinding).
 */
const CONSOLE_PATHS = ['/', '/console/app.js', '/console/styles.css', '/console/api/state'];

/** A raw HTTP GET, so the Host header can be anything (fetch sets it from the URL). */
function rawGet(
  baseUrl: string,
  requestPath: string,
  headers: Record<string, string>
): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path: requestPath, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }
    );
    req.on('error', reject);
  });
}

describe.each([
  ['by default on loopback', {}],
  ['by default when exposed through a tunnel', { PUBLIC_URL: 'https://my-tunnel.example.com' }],
  ['with CONSOLE_ACCESS=local on every interface', { CONSOLE_ACCESS: 'local', HOST: '0.0.0.0' }]
])('console %s', (_label, config: Record<string, string>) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config });
  });
  afterAll(() => server.close());

  it('serves a browser on this machine', async () => {
    for (const p of CONSOLE_PATHS) {
      expect({
        p,
        status: (await server.request(p, { headers: { authorization: '' } })).status
      }).toEqual({
        p,
        status: 200
      });
    }
  });

  it.each([
    ['x-forwarded-for', '203.0.113.9'],
    ['forwarded', 'for=203.0.113.9;proto=https'],
    ['cf-connecting-ip', '203.0.113.9'],
    ['x-real-ip', '203.0.113.9'],
    ['x-forwarded-host', 'my-tunnel.example.com'],
    ['via', '1.1 proxy']
  ])('refuses a request that came through a proxy or tunnel (%s)', async (header, value) => {
    for (const p of CONSOLE_PATHS) {
      const res = await server.request(p, { headers: { authorization: '', [header]: value } });
      expect({ p, status: res.status }).toEqual({ p, status: 403 });
      expect(res.json<{ error: { code: string } }>().error.code).toBe('FORBIDDEN');
    }
    const knobs = await server.request('/console/api/faults/demo', {
      method: 'PUT',
      headers: { authorization: '', 'content-type': 'application/json', [header]: value },
      body: JSON.stringify({ latencyMs: 100 })
    });
    expect(knobs.status).toBe(403);
    expect(server.faults.get('demo').latencyMs).toBe(0);
  });

  it('refuses a request addressed to another host name (DNS rebinding)', async () => {
    expect(
      await rawGet(server.baseUrl, '/console/api/state', { host: 'attacker.example:80' })
    ).toBe(403);
    expect(await rawGet(server.baseUrl, '/console/api/state', { host: 'localhost' })).toBe(200);
    expect(await rawGet(server.baseUrl, '/console/api/state', { host: '[::1]:3000' })).toBe(200);
  });

  it('keeps the pattern routes reachable for the org through the tunnel', async () => {
    const res = await server.request('/demo/echo', {
      headers: { authorization: `Bearer ${TEST_SECRET}`, 'x-forwarded-for': '203.0.113.9' }
    });
    expect(res.status).toBe(200);
  });
});

describe('console with CONSOLE_ACCESS=open', () => {
  it('answers proxied requests (explicitly configured)', async () => {
    const server = await startTestServer({ config: { CONSOLE_ACCESS: 'open' } });
    try {
      const res = await server.request('/console/api/state', {
        headers: { authorization: '', 'x-forwarded-for': '203.0.113.9' }
      });
      expect(res.status).toBe(200);
      expect(res.json<{ security: { consoleAccess: string } }>().security.consoleAccess).toBe(
        'open'
      );
    } finally {
      await server.close();
    }
  });
});

describe('security headers', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const CSP =
    "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';" +
    "base-uri 'none';form-action 'none';frame-ancestors 'none'";

  it.each([
    ['the console page', '/', {}, 200, 'no-cache'],
    ['the console script', '/console/app.js', {}, 200, 'no-cache'],
    ['the console state API', '/console/api/state', {}, 200, 'no-store'],
    ['a pattern route', '/demo/echo', { authorization: `Bearer ${TEST_SECRET}` }, 200, 'no-store'],
    ['a 401', '/demo/echo', { authorization: '' }, 401, 'no-store'],
    ['a 404', '/no/such/route', {}, 404, 'no-store'],
    [
      'a 400',
      '/demo/echo',
      { authorization: `Bearer ${TEST_SECRET}`, 'x-fault-status': 'x' },
      400,
      'no-store'
    ],
    ['/health', '/health', {}, 200, 'no-store'],
    ['/openapi.json', '/openapi.json', {}, 200, 'no-store']
  ])('on %s', async (_label, p, headers: Record<string, string>, status, cacheControl) => {
    const res = await server.request(p, { headers });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('cache-control')).toBe(cacheControl);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('sends them on the live-traffic event stream too', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.baseUrl}/console/events`, { signal: controller.signal });
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    controller.abort();
  });

  it('the console page needs no inline script or style (what the CSP forbids)', () => {
    const dir = path.join(__dirname, '..', '..', 'src', 'console', 'public');
    const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/console\//);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i); // inline event handlers are inline script
    const script = fs.readFileSync(path.join(dir, 'app.js'), 'utf8');
    expect(script).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(/
    );
    expect(script).not.toMatch(/setAttribute\(\s*['"](style|on[a-z]+)['"]/);
  });
});
