import { secretMatcher } from '../../src/auth/bearer';
import type { SecuritySnapshot } from '../../src/auth/status';
import { loadConfig } from '../../src/config';
import { TEST_SECRET, startTestServer, type TestServer } from '../support';

/**
 * Secret rotation without downtime: during the window the ERP accepts ERP_SHARED_SECRET (the new one) and
 * ERP_SHARED_SECRET_PREVIOUS (the old one), both compared in constant time; the console counts uses of the old one
 * so the operator knows when the org has switched and the old one can go.
 */
const NEW_SECRET = 'new-secret-abcdefghijklmnop';
const OLD_SECRET = 'old-secret-abcdefghijklmnop';

describe('secret matcher', () => {
  it('returns which secret matched, current first, and -1 for anything else', () => {
    const match = secretMatcher([NEW_SECRET, OLD_SECRET]);
    expect(match(NEW_SECRET)).toBe(0);
    expect(match(OLD_SECRET)).toBe(1);
    expect(match(`${NEW_SECRET}x`)).toBe(-1);
    expect(match(NEW_SECRET.slice(0, -1))).toBe(-1);
    expect(match('')).toBe(-1);
    expect(secretMatcher([NEW_SECRET])(OLD_SECRET)).toBe(-1);
    expect(() => secretMatcher([])).toThrow();
  });

  it('compares the token with every secret, also after a match (no early exit)', () => {
    // Count timingSafeEqual calls through the module the matcher uses.
    jest.isolateModules(() => {
      const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
      const calls: number[] = [];
      jest.doMock('node:crypto', () => ({
        ...crypto,
        timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
          calls.push(1);
          return crypto.timingSafeEqual(a, b);
        }
      }));
      const { secretMatcher: isolated } =
        jest.requireActual<typeof import('../../src/auth/bearer')>('../../src/auth/bearer');
      const match = isolated([NEW_SECRET, OLD_SECRET]);
      for (const token of [NEW_SECRET, OLD_SECRET, 'neither-of-them-123456']) {
        calls.length = 0;
        match(token);
        expect({ token, comparisons: calls.length }).toEqual({ token, comparisons: 2 });
      }
      jest.dontMock('node:crypto');
    });
  });
});

describe('ERP_SHARED_SECRET_PREVIOUS validation', () => {
  it.each([
    [
      { ERP_SHARED_SECRET_PREVIOUS: OLD_SECRET },
      /ERP_SHARED_SECRET_PREVIOUS is only for a rotation/
    ],
    [{ ERP_SHARED_SECRET: NEW_SECRET, ERP_SHARED_SECRET_PREVIOUS: NEW_SECRET }, /must differ/],
    [
      { ERP_SHARED_SECRET: NEW_SECRET, ERP_SHARED_SECRET_PREVIOUS: 'short' },
      /at least 16 characters/
    ]
  ])('%o is refused', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('is read when valid', () => {
    expect(
      loadConfig({ ERP_SHARED_SECRET: NEW_SECRET, ERP_SHARED_SECRET_PREVIOUS: OLD_SECRET })
        .previousSharedSecret
    ).toBe(OLD_SECRET);
    expect(loadConfig({ ERP_SHARED_SECRET: NEW_SECRET }).previousSharedSecret).toBeUndefined();
  });
});

describe('rotation over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: { ERP_SHARED_SECRET: NEW_SECRET, ERP_SHARED_SECRET_PREVIOUS: OLD_SECRET }
    });
  });
  afterAll(() => server.close());

  const security = async (): Promise<SecuritySnapshot> =>
    (await server.request('/console/api/state')).json<{ security: SecuritySnapshot }>().security;

  it('accepts both secrets during the window and counts uses of the previous one', async () => {
    expect((await security()).rotation).toEqual({ previousAccepted: true, previousSecretUses: 0 });
    const viaNew = await server.request('/demo/echo', {
      headers: { authorization: `Bearer ${NEW_SECRET}` }
    });
    expect(viaNew.status).toBe(200);
    expect((await security()).rotation.previousSecretUses).toBe(0);
    const viaOld = await server.request('/demo/echo', {
      headers: { authorization: `Bearer ${OLD_SECRET}` }
    });
    expect(viaOld.status).toBe(200);
    expect((await security()).rotation).toEqual({
      previousAccepted: true,
      previousSecretUses: 1,
      lastPreviousSecretUseAt: expect.any(String)
    });
  });

  it('still refuses anything else', async () => {
    for (const authorization of [
      `Bearer ${TEST_SECRET}`,
      `Bearer ${OLD_SECRET}x`,
      `Basic ${NEW_SECRET}`
    ]) {
      const res = await server.request('/demo/echo', { headers: { authorization } });
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
    }
  });

  it('after the window (previous unset) the old secret is refused', async () => {
    const after = await startTestServer({ config: { ERP_SHARED_SECRET: NEW_SECRET } });
    try {
      expect(
        (await after.request('/demo/echo', { headers: { authorization: `Bearer ${OLD_SECRET}` } }))
          .status
      ).toBe(401);
      expect(
        (await after.request('/demo/echo', { headers: { authorization: `Bearer ${NEW_SECRET}` } }))
          .status
      ).toBe(200);
    } finally {
      await after.close();
    }
  });
});
