import type { PatternModule } from '../../src/pattern-module';
import { createUiIntegrationModule } from '../../src/ui-integration';
import { loadUiIntegrationConfig } from '../../src/ui-integration/config';
import type { SecuritySnapshot } from '../../src/auth/status';
import type { TrafficEvent } from '../../src/traffic';
import { demoPattern, startTestServer, type TestServer } from '../support';

/** A route that authenticates its caller itself (like the UI Integration canvas page). */
const ownAuthPattern: PatternModule = {
  name: 'own',
  title: 'Own authentication',
  summary: 'A route that checks its own credential.',
  register(app) {
    app.get(
      '/page',
      { config: { ownAuthentication: 'test-signature' }, schema: { hide: true } },
      async () => ({
        page: true
      })
    );
  }
};

interface ErrorShape {
  error: { status: number; code: string; message: string };
  correlationId: string;
}

const PREVIOUS = 'previous-secret-0123456789';

describe('rate limits on pattern routes (per credential)', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({
      patterns: [demoPattern(), ownAuthPattern],
      config: {
        RATE_LIMIT_MAX: '3',
        RATE_LIMIT_ANONYMOUS_MAX: '2',
        RATE_LIMIT_WINDOW_SECONDS: '60',
        ERP_SHARED_SECRET_PREVIOUS: PREVIOUS
      }
    });
  });
  afterEach(() => server.close());

  it('answers 429 with Retry-After in the shared error shape after the limit', async () => {
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const ok = await server.request('/demo/echo');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('3');
      remaining.push(ok.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await server.request('/demo/echo');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
    expect(limited.json<ErrorShape>()).toEqual({
      error: {
        status: 429,
        code: 'RATE_LIMITED',
        message: expect.stringMatching(
          /the current shared secret: at most 3 per 60 s\. Retry after \d+ s\./
        )
      },
      correlationId: limited.headers.get('x-correlation-id')
    });
    // The 429 carries the security headers too.
    expect(limited.headers.get('cache-control')).toBe('no-store');
    expect(limited.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('counts each credential apart: the previous secret of a rotation has its own allowance', async () => {
    for (let i = 0; i < 4; i++) await server.request('/demo/echo');
    expect((await server.request('/demo/echo')).status).toBe(429);
    const previous = await server.request('/demo/echo', {
      headers: { authorization: `Bearer ${PREVIOUS}` }
    });
    expect(previous.status).toBe(200);
  });

  it('limits callers without a valid token per address, and they cannot use up the org allowance', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await server.request('/demo/echo', {
        headers: { authorization: 'Bearer wrong-token-123456' }
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    // Another address behind the same tunnel has its own bucket (the tunnel's appended X-Forwarded-For entry).
    const other = await server.request('/demo/echo', {
      headers: { authorization: '', 'x-forwarded-for': '198.51.100.7' }
    });
    expect(other.status).toBe(401);
    // The org's secret is untouched by all that.
    expect((await server.request('/demo/echo')).status).toBe(200);
  });

  it('limits routes with their own authentication per client address', async () => {
    const from = (address: string) =>
      server.request('/own/page', {
        headers: { authorization: '', 'x-forwarded-for': `203.0.113.1, ${address}` }
      });
    expect([
      (await from('192.0.2.1')).status,
      (await from('192.0.2.1')).status,
      (await from('192.0.2.1')).status
    ]).toEqual([200, 200, 200]);
    const limited = await from('192.0.2.1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
    // A forged first X-Forwarded-For entry does not matter; the last one (what the tunnel appended) does.
    expect((await from('192.0.2.2')).status).toBe(200);
  });

  it('never limits the console, /health or the OpenAPI document', async () => {
    for (let i = 0; i < 8; i++) {
      for (const path of ['/health', '/openapi.json', '/console/api/state']) {
        const res = await server.request(path, { headers: { authorization: '' } });
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
  });

  it('shows the limits and what they refused on the console, with one traffic note per window', async () => {
    for (let i = 0; i < 6; i++) await server.request('/demo/echo');
    const state = await server.request('/console/api/state');
    const security = state.json<{ security: SecuritySnapshot }>().security;
    expect(security.rateLimit).toEqual({
      enabled: true,
      max: 3,
      anonymousMax: 2,
      windowSeconds: 60,
      limitedRequests: 3,
      lastLimitedAt: expect.any(String),
      lastLimitedCaller: 'the current shared secret'
    });
    const notes = server.app.erp.traffic
      .recent(0)
      .filter(
        (event: TrafficEvent) =>
          event.kind === 'note' && event.message.startsWith('Rate limit reached')
      );
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ pattern: 'demo' });
  });
});

describe('rate limit window and switch', () => {
  it('lets the caller in again once the window has passed', async () => {
    const server = await startTestServer({
      config: { RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_SECONDS: '1' }
    });
    try {
      expect((await server.request('/demo/echo')).status).toBe(200);
      const limited = await server.request('/demo/echo');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await server.request('/demo/echo')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('RATE_LIMIT_MAX=0 turns rate limiting off', async () => {
    const server = await startTestServer({ config: { RATE_LIMIT_MAX: '0' } });
    try {
      for (let i = 0; i < 20; i++) {
        const res = await server.request('/demo/echo');
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      }
      const state = await server.request('/console/api/state');
      expect(state.json<{ security: SecuritySnapshot }>().security.rateLimit.enabled).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('uses the documented defaults: 6000 per 60 s per secret, 60 without one', async () => {
    const server = await startTestServer();
    try {
      const res = await server.request('/demo/echo');
      expect(res.headers.get('x-ratelimit-limit')).toBe('6000');
      const anonymous = await server.request('/demo/echo', { headers: { authorization: '' } });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('x-ratelimit-limit')).toBe('60');
    } finally {
      await server.close();
    }
  });
});

describe('rate limits on a route with its own authentication and its own error pages', () => {
  it('the UI Integration canvas page keeps working, and past the limit renders its 429 page with Retry-After', async () => {
    const server = await startTestServer({
      patterns: [createUiIntegrationModule({ config: loadUiIntegrationConfig({}) })],
      config: { RATE_LIMIT_MAX: '2' }
    });
    try {
      const open = () =>
        server.request('/ui-integration/canvas', { headers: { authorization: '' } });
      // The page needs no bearer secret: a GET (opened outside Salesforce) gets its own 405 page.
      expect((await open()).status).toBe(405);
      expect((await open()).status).toBe(405);
      const limited = await open();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(limited.headers.get('content-type')).toMatch(/^text\/html/);
      // Its own framing policy still replaces the server-wide one.
      expect(limited.headers.get('x-frame-options')).toBeNull();
      expect(limited.headers.get('content-security-policy')).toContain('frame-ancestors https://');
    } finally {
      await server.close();
    }
  });
});
