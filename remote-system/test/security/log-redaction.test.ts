import { REDACTED, redactUrl, scrubLine, secretValuesOf } from '../../src/auth/log-redaction';
import type { PatternModule } from '../../src/pattern-module';
import { TEST_SECRET, startTestServer, type TestServer } from '../support';

/**
 * No secret in any log line: real requests carrying each kind of credential (the bearer secret, the previous
 * secret, OAuth tokens in headers, bodies and query strings, canvas signed requests, cookies) go through the real
 * server with logging on; every captured line is then searched for every secret value.
 */
const PREVIOUS = 'previous-secret-abcdef0123456789';
const SESSION_ID =
  '00D5g000004ABCD!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6LYUfiDUk';
const REFRESH_TOKEN = '5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJVNN1v.Xt5zk7Fbb6t';
const CONSUMER_SECRET = 'C0nsumerSecretFromTheExternalClientApp';
const SIGNED_REQUEST =
  'fW1Jv6Yb0cMqXzN2ePHh2k0dGqYl3u9eKp4Zo1aA7Bc=.' +
  Buffer.from(
    JSON.stringify({ client: { oauthToken: 'canvas-oauth-token-xyz' }, algorithm: 'HMACSHA256' })
  ).toString('base64');
const JWT =
  'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjbGllbnQiLCJzdWIiOiJ1c2VyQGV4YW1wbGUuY29tIn0.c2lnbmF0dXJlLWJ5dGVz';
const COOKIE = 'sid=cookie-session-value-42';

/** Everything that must never appear in a log line. */
const SECRETS = [
  TEST_SECRET,
  PREVIOUS,
  SESSION_ID,
  REFRESH_TOKEN,
  CONSUMER_SECRET,
  SIGNED_REQUEST,
  'canvas-oauth-token-xyz',
  JWT,
  'cookie-session-value-42'
];

/** A pattern that logs the way careless code does: whole objects, headers, error messages quoting tokens. */
const chattyPattern: PatternModule = {
  name: 'chatty',
  title: 'Chatty',
  summary: 'Logs what it should not.',
  register(app) {
    app.post('/log', async (request) => {
      const body = request.body as Record<string, unknown>;
      request.log.info({ headers: request.headers }, 'request headers');
      request.log.info(
        {
          accessToken: SESSION_ID,
          oauth: { access_token: SESSION_ID, refresh_token: REFRESH_TOKEN, id_token: JWT },
          canvas: {
            signedRequest: body.signed_request,
            context: { client: { oauthToken: 'canvas-oauth-token-xyz' } }
          },
          salesforce: { clientSecret: CONSUMER_SECRET },
          set: { 'set-cookie': COOKIE }
        },
        'tokens in fields'
      );
      request.log.warn(
        `retrying with Authorization: Bearer ${SESSION_ID} and ${String(body.signed_request)}`
      );
      return { ok: true };
    });
    app.get('/fail', async (request) => {
      const error = new Error(
        `token endpoint said no to assertion ${JWT} for session ${SESSION_ID}`
      );
      Object.assign(error, { headers: { authorization: `Bearer ${TEST_SECRET}`, cookie: COOKIE } });
      request.log.info({ query: request.query }, 'query');
      throw error;
    });
  }
};

describe('log redaction over real requests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      patterns: [chattyPattern],
      captureLogs: true,
      config: {
        ERP_SHARED_SECRET_PREVIOUS: PREVIOUS,
        UI_INTEGRATION_CONSUMER_SECRET: CONSUMER_SECRET
      }
    });
    await server.request('/chatty/log', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: COOKIE },
      body: JSON.stringify({ signed_request: SIGNED_REQUEST })
    });
    await server.request('/chatty/log', {
      method: 'POST',
      headers: { authorization: `Bearer ${PREVIOUS}`, 'content-type': 'application/json' },
      body: JSON.stringify({ signed_request: SIGNED_REQUEST })
    });
    await server.request(
      `/chatty/fail?access_token=${encodeURIComponent(SESSION_ID)}&signed_request=${encodeURIComponent(SIGNED_REQUEST)}&page=2`
    );
    await server.request('/chatty/log', {
      headers: { authorization: 'Bearer wrong-token-value-123' }
    });
    await server.close();
  });

  it('captured the requests (the test would be empty otherwise)', () => {
    const messages = server.logs.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        'request headers',
        'tokens in fields',
        'request failed',
        'incoming request'
      ])
    );
    expect(server.logs.length).toBeGreaterThan(10);
  });

  it('no secret appears in any captured log line', () => {
    const lines = server.logs.map((line) => JSON.stringify(line));
    for (const secret of SECRETS) {
      const leaks = lines.filter(
        (line) => line.includes(secret) || line.includes(encodeURIComponent(secret))
      );
      expect({ secret, leaks }).toEqual({ secret, leaks: [] });
    }
  });

  it('keeps the rest of each line readable', () => {
    const headers = server.logs.find((line) => line.msg === 'request headers') as {
      headers: Record<string, string>;
    };
    expect(headers.headers.cookie).toBe(REDACTED);
    expect(headers.headers['content-type']).toBe('application/json');
    const failed = server.logs.find((line) => line.msg === 'request failed') as {
      err: { message: string; headers: Record<string, string> };
    };
    expect(failed.err.message).toBe(
      `token endpoint said no to assertion ${REDACTED} for session ${REDACTED}`
    );
    expect(failed.err.headers.authorization).toBe(REDACTED);
    const incoming = server.logs.find(
      (line) =>
        line.msg === 'incoming request' &&
        String((line.req as { url: string }).url).includes('fail')
    ) as { req: { url: string } };
    expect(incoming.req.url).toBe(
      `/chatty/fail?access_token=${REDACTED}&signed_request=${REDACTED}&page=2`
    );
  });

  it('shows no credential in the console traffic either', () => {
    const paths = server.app.erp.traffic
      .recent(0)
      .flatMap((event) => (event.kind === 'request' ? [event.path] : []));
    expect(paths).toContain(
      `/chatty/fail?access_token=${REDACTED}&signed_request=${REDACTED}&page=2`
    );
    for (const secret of SECRETS) {
      expect(paths.filter((p) => p.includes(encodeURIComponent(secret)))).toEqual([]);
    }
  });
});

describe('redaction helpers', () => {
  it('redacts credential query parameters only', () => {
    expect(redactUrl('/a/b')).toBe('/a/b');
    expect(redactUrl('/a?x=1&ACCESS_TOKEN=abc&code=zz&$skiptoken=keep')).toBe(
      `/a?x=1&ACCESS_TOKEN=${REDACTED}&code=${REDACTED}&$skiptoken=keep`
    );
    expect(redactUrl('/a?flag&token')).toBe('/a?flag&token');
  });

  it('scrubs secrets inside strings', () => {
    expect(scrubLine(`"msg":"Authorization: Bearer ${TEST_SECRET}"`, [])).toBe(
      `"msg":"Authorization: Bearer ${REDACTED}"`
    );
    expect(scrubLine(`session ${SESSION_ID} ok`, [])).toBe(`session ${REDACTED} ok`);
    expect(scrubLine(`jwt ${JWT}`, [])).toBe(`jwt ${REDACTED}`);
    expect(scrubLine(`sr ${SIGNED_REQUEST}`, [])).toBe(`sr ${REDACTED}`);
    expect(scrubLine('value my"quoted\\secret here', ['my"quoted\\secret'])).toBe(
      `value ${REDACTED} here`
    );
    expect(scrubLine('"v":"my\\"quoted\\\\secret"', ['my"quoted\\secret'])).toBe(
      `"v":"${REDACTED}"`
    );
    // Ordinary words stay.
    expect(scrubLine('Missing bearer token: send it', [])).toBe('Missing bearer token: send it');
  });

  it('treats every SECRET/TOKEN/PASSWORD variable as a secret, not file paths or short values', () => {
    expect(
      secretValuesOf({
        SF_ACCESS_TOKEN: SESSION_ID,
        UI_INTEGRATION_CONSUMER_SECRET: CONSUMER_SECRET,
        SF_PRIVATE_KEY_FILE: '/keys/server.key',
        DB_PASSWORD: 'short',
        PORT: '3000'
      })
    ).toEqual([SESSION_ID, CONSUMER_SECRET]);
  });
});
