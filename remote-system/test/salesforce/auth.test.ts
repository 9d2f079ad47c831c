import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type SalesforceConnectionConfig } from '../../src/config';
import { createSalesforceAuth, SalesforceAuthError } from '../../src/salesforce';
import {
  STAND_IN_ORG_ID,
  startSalesforceStandIn,
  type SalesforceStandIn
} from '../stand-ins/salesforce-rest';
import { tempDir } from '../support';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const CLIENT_ID = '3MVG9-stand-in-consumer-key';
const USERNAME = 'erp-integration@acme.test';

describe('SalesforceAuth', () => {
  let standIn: SalesforceStandIn;
  let tmp: { dir: string; cleanup: () => void };
  let keyFile: string;

  beforeAll(async () => {
    tmp = tempDir('sf-auth-');
    keyFile = path.join(tmp.dir, 'server.key');
    fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  afterAll(() => tmp.cleanup());

  beforeEach(async () => {
    standIn = await startSalesforceStandIn({
      jwt: { clientId: CLIENT_ID, username: USERNAME, publicKey },
      clientCredentials: { clientId: CLIENT_ID, clientSecret: 'consumer-secret' },
      staticTokens: [`${STAND_IN_ORG_ID}!fixed`],
      tokenDelayMs: 30
    });
    standIn.route('GET', '/services/data/v67.0/limits', () => ({ status: 200, body: {} }));
  });
  afterEach(() => standIn.close());

  const jwtConfig = (overrides: Record<string, string> = {}): SalesforceConnectionConfig =>
    loadConfig({
      SF_CLIENT_ID: CLIENT_ID,
      SF_USERNAME: USERNAME,
      SF_PRIVATE_KEY_FILE: keyFile,
      SF_LOGIN_URL: standIn.url,
      ...overrides
    }).salesforce;

  const callLimits = async (accessToken: string): Promise<number> =>
    (
      await fetch(`${standIn.url}/services/data/v67.0/limits`, {
        headers: { authorization: `Bearer ${accessToken}` }
      })
    ).status;

  describe('JWT bearer', () => {
    it('gets a session the org accepts, with the org id from the identity URL', async () => {
      const auth = createSalesforceAuth(jwtConfig());
      const session = await auth.session();
      expect(session).toMatchObject({
        instanceUrl: standIn.url,
        apiVersion: '67.0',
        orgId: `${STAND_IN_ORG_ID}AAA`
      });
      expect(await callLimits(session.accessToken)).toBe(200);
      expect(standIn.tokenRequests).toEqual([
        { grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', ok: true }
      ]);
    });

    it('caches the session and shares one token request between concurrent callers', async () => {
      const auth = createSalesforceAuth(jwtConfig());
      const sessions = await Promise.all([auth.session(), auth.session(), auth.session()]);
      expect(new Set(sessions.map((s) => s.accessToken)).size).toBe(1);
      await auth.session();
      expect(standIn.tokenRequests).toHaveLength(1);
    });

    it('refreshes once for many callers that saw the same rejected token', async () => {
      const auth = createSalesforceAuth(jwtConfig());
      const first = await auth.session();
      standIn.revokeTokens();
      expect(await callLimits(first.accessToken)).toBe(401);

      const refreshed = await Promise.all([1, 2, 3, 4].map(() => auth.refresh(first)));
      expect(new Set(refreshed.map((s) => s.accessToken)).size).toBe(1);
      expect(refreshed[0]?.accessToken).not.toBe(first.accessToken);
      // A late caller still holding the old token gets the new one without another grant.
      expect((await auth.refresh(first)).accessToken).toBe(refreshed[0]?.accessToken);
      expect(standIn.tokenRequests).toHaveLength(2);
      expect(await callLimits(refreshed[0]?.accessToken ?? '')).toBe(200);
    });

    it('reads a PKCS#1 key file too', async () => {
      const pkcs1 = path.join(tmp.dir, 'pkcs1.key');
      fs.writeFileSync(pkcs1, privateKey.export({ type: 'pkcs1', format: 'pem' }));
      const session = await createSalesforceAuth(
        jwtConfig({ SF_PRIVATE_KEY_FILE: pkcs1 })
      ).session();
      expect(await callLimits(session.accessToken)).toBe(200);
    });

    it('reports a grant the org refuses, with the OAuth error code', async () => {
      const auth = createSalesforceAuth(jwtConfig({ SF_USERNAME: 'someone-else@acme.test' }));
      const error = await auth.session().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SalesforceAuthError);
      expect(error).toMatchObject({ oauthError: 'invalid_grant', status: 400 });
      expect((error as Error).message).toMatch(/refused the .*jwt-bearer grant/);
    });

    it('does not cache a failure: the next call asks again', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const wrongKey = path.join(tmp.dir, 'wrong.key');
      fs.writeFileSync(wrongKey, other.export({ type: 'pkcs8', format: 'pem' }));
      const auth = createSalesforceAuth(jwtConfig({ SF_PRIVATE_KEY_FILE: wrongKey }));
      await expect(auth.session()).rejects.toThrow(SalesforceAuthError);
      await expect(auth.session()).rejects.toThrow(SalesforceAuthError);
      expect(standIn.tokenRequests.map((r) => r.ok)).toEqual([false, false]);
    });

    it('names a key file that is not a key', async () => {
      const notAKey = path.join(tmp.dir, 'not-a-key.pem');
      fs.writeFileSync(notAKey, 'hello');
      await expect(
        createSalesforceAuth(jwtConfig({ SF_PRIVATE_KEY_FILE: notAKey })).session()
      ).rejects.toThrow(/SF_PRIVATE_KEY_FILE .*not-a-key\.pem is not a PEM private key/);
    });

    it('reports an unreachable token endpoint', async () => {
      const url = standIn.url;
      await standIn.close();
      await expect(
        createSalesforceAuth(jwtConfig({ SF_LOGIN_URL: url })).session()
      ).rejects.toThrow(/token endpoint .* unreachable/);
      standIn = await startSalesforceStandIn();
    });
  });

  describe('client credentials', () => {
    const ccConfig = (secret: string): SalesforceConnectionConfig =>
      loadConfig({ SF_CLIENT_ID: CLIENT_ID, SF_CLIENT_SECRET: secret, SF_LOGIN_URL: standIn.url })
        .salesforce;

    it('exchanges the consumer key and secret for a session, and refreshes', async () => {
      const auth = createSalesforceAuth(ccConfig('consumer-secret'));
      const session = await auth.session();
      expect(await callLimits(session.accessToken)).toBe(200);
      const next = await auth.refresh(session);
      expect(next.accessToken).not.toBe(session.accessToken);
      expect(standIn.tokenRequests).toEqual([
        { grantType: 'client_credentials', ok: true },
        { grantType: 'client_credentials', ok: true }
      ]);
    });

    it('reports a wrong secret as invalid_client', async () => {
      await expect(createSalesforceAuth(ccConfig('wrong')).session()).rejects.toMatchObject({
        name: 'SalesforceAuthError',
        oauthError: 'invalid_client'
      });
    });
  });

  describe('fixed token', () => {
    it('returns the configured token and refuses to refresh it with a clear message', async () => {
      const auth = createSalesforceAuth(
        loadConfig({ SF_INSTANCE_URL: standIn.url, SF_ACCESS_TOKEN: `${STAND_IN_ORG_ID}!fixed` })
          .salesforce
      );
      const session = await auth.session();
      expect(session).toEqual({
        instanceUrl: standIn.url,
        accessToken: `${STAND_IN_ORG_ID}!fixed`,
        apiVersion: '67.0',
        orgId: STAND_IN_ORG_ID
      });
      expect(await callLimits(session.accessToken)).toBe(200);
      await expect(auth.refresh(session)).rejects.toThrow(
        /fixed token cannot be refreshed: put a fresh one in SF_ACCESS_TOKEN/
      );
    });
  });

  describe('sf CLI', () => {
    it('runs sf org display for the target org, and again on refresh', async () => {
      const calls: string[] = [];
      let n = 0;
      const auth = createSalesforceAuth(loadConfig({ SF_TARGET_ORG: 'erp-demo' }).salesforce, {
        runSfOrgDisplay: async (org) => {
          calls.push(org);
          n += 1;
          return JSON.stringify({
            status: 0,
            result: { instanceUrl: `${standIn.url}/`, accessToken: `${STAND_IN_ORG_ID}!cli${n}` }
          });
        }
      });
      const [a, b] = await Promise.all([auth.session(), auth.session()]);
      expect(a).toEqual(b);
      expect(a.instanceUrl).toBe(standIn.url);
      const refreshed = await auth.refresh(a);
      expect(refreshed.accessToken).toBe(`${STAND_IN_ORG_ID}!cli2`);
      expect(calls).toEqual(['erp-demo', 'erp-demo']);
    });

    it("surfaces the CLI's own error", async () => {
      const auth = createSalesforceAuth(loadConfig({ SF_TARGET_ORG: 'gone' }).salesforce, {
        runSfOrgDisplay: async () =>
          JSON.stringify({ status: 1, message: 'No authorization information found for gone.' })
      });
      await expect(auth.session()).rejects.toThrow(
        'sf org display failed: No authorization information found for gone.'
      );
    });
  });

  it('says which settings are missing when no connection is configured', () => {
    expect(() => createSalesforceAuth(loadConfig({}).salesforce)).toThrow(
      /no Salesforce connection configured: set SF_INSTANCE_URL/
    );
  });
});

describe('OAuth settings', () => {
  let tmp: { dir: string; cleanup: () => void };
  let keyFile: string;
  beforeAll(() => {
    tmp = tempDir('sf-config-');
    keyFile = path.join(tmp.dir, 'k.pem');
    fs.writeFileSync(keyFile, 'x');
  });
  afterAll(() => tmp.cleanup());

  it('reads the JWT bearer settings with the production login URL as default audience', () => {
    expect(
      loadConfig({ SF_CLIENT_ID: 'cid', SF_USERNAME: 'u@x.test', SF_PRIVATE_KEY_FILE: keyFile })
        .salesforce
    ).toEqual({
      mode: 'jwt',
      loginUrl: 'https://login.salesforce.com',
      audience: 'https://login.salesforce.com',
      clientId: 'cid',
      username: 'u@x.test',
      privateKeyFile: keyFile,
      apiVersion: '67.0'
    });
    expect(
      loadConfig({
        SF_CLIENT_ID: 'cid',
        SF_USERNAME: 'u@x.test',
        SF_PRIVATE_KEY_FILE: keyFile,
        SF_LOGIN_URL: 'https://acme.my.salesforce.com/',
        SF_JWT_AUDIENCE: 'https://test.salesforce.com'
      }).salesforce
    ).toMatchObject({
      loginUrl: 'https://acme.my.salesforce.com',
      audience: 'https://test.salesforce.com'
    });
  });

  it('reads the client-credentials settings and requires the My Domain login URL', () => {
    expect(
      loadConfig({
        SF_CLIENT_ID: 'cid',
        SF_CLIENT_SECRET: 's',
        SF_LOGIN_URL: 'https://acme.my.salesforce.com'
      }).salesforce
    ).toEqual({
      mode: 'client-credentials',
      loginUrl: 'https://acme.my.salesforce.com',
      clientId: 'cid',
      clientSecret: 's',
      apiVersion: '67.0'
    });
    expect(() => loadConfig({ SF_CLIENT_ID: 'cid', SF_CLIENT_SECRET: 's' })).toThrow(
      /SF_LOGIN_URL must be the org's My Domain URL/
    );
  });

  it.each([
    [{ SF_CLIENT_SECRET: 's', SF_LOGIN_URL: 'https://a.my.salesforce.com' }, /SF_CLIENT_ID/],
    [{ SF_CLIENT_ID: 'cid' }, /SF_PRIVATE_KEY_FILE \+ SF_USERNAME/],
    [{ SF_CLIENT_ID: 'cid', SF_PRIVATE_KEY_FILE: '/nope.pem', SF_USERNAME: 'u' }, /does not exist/],
    [
      { SF_CLIENT_ID: 'c', SF_CLIENT_SECRET: 's', SF_PRIVATE_KEY_FILE: '/k', SF_USERNAME: 'u' },
      /not both/
    ],
    [
      {
        SF_CLIENT_ID: 'c',
        SF_CLIENT_SECRET: 's',
        SF_LOGIN_URL: 'https://a.my.salesforce.com',
        SF_TARGET_ORG: 'erp'
      },
      /set one Salesforce connection/
    ]
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
