import { loadUiIntegrationConfig } from '../../src/ui-integration/config';
import { createUiIntegrationModule } from '../../src/ui-integration';
import { startSalesforceStandIn, type SalesforceStandIn } from '../stand-ins/salesforce-rest';
import { startTestServer, type TestServer } from '../support';
import { CANVAS_ENV, OPPORTUNITY_ID, USER_TOKEN, canvasRequest, postForm, sign } from './support';

/**
 * The canvas page over real HTTP: the real composition root (bearer hook, error handling) with the UI Integration
 * module, a real SQLite database, and the Salesforce REST stand-in as the org the signed request points at.
 */
describe('canvas page', () => {
  let standIn: SalesforceStandIn;
  let server: TestServer;
  let canvasUrl: string;

  const start = async (env: Record<string, string>): Promise<TestServer> =>
    startTestServer({
      patterns: [createUiIntegrationModule({ config: loadUiIntegrationConfig(env) })],
      config: env,
      captureLogs: true
    });

  beforeAll(async () => {
    standIn = await startSalesforceStandIn({ staticTokens: [USER_TOKEN] });
    server = await start({ ...CANVAS_ENV, UI_INTEGRATION_MAX_AGE_SECONDS: '900' });
    canvasUrl = `${server.baseUrl}/ui-integration/canvas`;
  });
  afterAll(async () => {
    await server?.close();
    await standIn?.close();
  });
  beforeEach(() => {
    standIn.records.set(
      'Opportunity',
      new Map([[OPPORTUNITY_ID, { Id: OPPORTUNITY_ID, Name: 'Acme — 500 widgets' }]])
    );
    standIn.requests.length = 0;
  });

  const signed = (overrides: Parameters<typeof canvasRequest>[1] = {}): string =>
    sign(canvasRequest(standIn.url, overrides));
  const firstProduct = (): { code: string; cents: number } => {
    const row = server.db
      .prepare(
        'SELECT product_code, unit_price_cents FROM products WHERE active = 1 ORDER BY family, name LIMIT 1'
      )
      .get() as { product_code: string; unit_price_cents: number };
    return { code: row.product_code, cents: row.unit_price_cents };
  };
  const problemCode = (html: string): string | undefined =>
    /data-testid="problem"><strong>([A-Z_]+)<\/strong>/.exec(html)?.[1];

  it('renders the pricing tool for the user, org and Opportunity of a valid signed request, without the bearer secret', async () => {
    const res = await postForm(canvasUrl, { signed_request: signed() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('Rita Rep · Integration Patterns Demo · Opportunity');
    expect(res.text).toContain('Acme — 500 widgets');
    const options = res.text.match(/<option value="P-\d{5}"/g) ?? [];
    const active = server.db
      .prepare('SELECT count(*) FROM products WHERE active = 1')
      .pluck()
      .get();
    expect(options).toHaveLength(active as number);
    // The Canvas SDK comes from the org's instance, at the API version of the settings.
    expect(res.text).toContain(
      `<script src="${standIn.url}/canvas/sdk/js/67.0/canvas-all.js" defer>`
    );
    expect(standIn.requests).toEqual([]);
  });

  it('sets framing and caching headers: frame-ancestors limited to Salesforce domains, no-store', async () => {
    const res = await postForm(canvasUrl, { signed_request: signed() });
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(
      'frame-ancestors https://*.salesforce.com https://*.force.com https://*.salesforce-setup.com'
    );
    expect(csp).toContain(`script-src 'self' ${standIn.url}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    // Problem pages are framed too (they show inside Salesforce), and allow no script at all.
    const refused = await postForm(canvasUrl, { signed_request: 'x.y' });
    expect(refused.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it.each([
    ['a tampered payload', () => tampered(), 403, 'SIGNATURE_MISMATCH'],
    [
      'a request signed with another secret',
      () => sign(canvasRequest(standIn.url), 'another-consumer-secret-00000'),
      403,
      'SIGNATURE_MISMATCH'
    ],
    ['an unknown algorithm', () => signed({ algorithm: 'HMACSHA1' }), 400, 'UNSUPPORTED_ALGORITHM'],
    [
      'a request issued too long ago',
      () => signed({ issuedAt: Math.floor(Date.now() / 1000) - 901 }),
      403,
      'SIGNED_REQUEST_EXPIRED'
    ],
    ['a malformed request', () => 'not-a-signed-request', 400, 'SIGNED_REQUEST_MALFORMED'],
    [
      'a request without the Opportunity',
      () => signed({ environment: { parameters: {} } }),
      400,
      'NO_OPPORTUNITY_IN_CONTEXT'
    ]
  ])(
    'refuses %s with a clear 4xx page and processes nothing',
    async (_name, make, status, code) => {
      for (const path of ['', '/quote', '/apply']) {
        const res = await postForm(`${canvasUrl}${path}`, {
          signed_request: make(),
          productCode: firstProduct().code,
          quantity: '5'
        });
        expect({ path, status: res.status, code: problemCode(res.text) }).toEqual({
          path,
          status,
          code
        });
        expect(res.text).toContain('The ERP pricing tool cannot open');
        expect(res.text).toContain(res.headers.get('x-correlation-id') ?? 'missing');
        expect(res.text).not.toContain('<option');
      }
      expect(standIn.requests).toEqual([]);
      expect(standIn.records.get('Opportunity')?.get(OPPORTUNITY_ID)).toEqual({
        Id: OPPORTUNITY_ID,
        Name: 'Acme — 500 widgets'
      });
    }
  );

  function tampered(): string {
    const [signature] = signed().split('.');
    const request = canvasRequest(standIn.url);
    (request.client as { instanceUrl: string }).instanceUrl = 'http://127.0.0.1:1';
    return `${signature}.${Buffer.from(JSON.stringify(request)).toString('base64')}`;
  }

  it('refuses a signed request pointing at a host it does not trust, before sending the token anywhere', async () => {
    const raw = sign(canvasRequest('https://tokens.evil.example'));
    const res = await postForm(`${canvasUrl}/apply`, {
      signed_request: raw,
      productCode: firstProduct().code,
      quantity: '1'
    });
    expect([res.status, problemCode(res.text)]).toEqual([403, 'UNTRUSTED_INSTANCE']);
  });

  it('refuses an oversized form with a 413 page, a JSON body with a 415 page, a missing field with a 400 page', async () => {
    const big = await postForm(canvasUrl, { signed_request: 'A'.repeat(70_000) });
    expect([big.status, problemCode(big.text)]).toEqual([413, 'SIGNED_REQUEST_TOO_LARGE']);
    const json = await fetch(canvasUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signed_request: signed() })
    });
    const jsonText = await json.text();
    expect([json.status, problemCode(jsonText)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const empty = await postForm(canvasUrl, {});
    expect([empty.status, problemCode(empty.text)]).toEqual([400, 'SIGNED_REQUEST_MISSING']);
    const get = await fetch(canvasUrl);
    expect([get.status, get.headers.get('allow'), problemCode(await get.text())]).toEqual([
      405,
      'POST',
      'METHOD_NOT_ALLOWED'
    ]);
  });

  it('prices a product and quantity from the ERP catalog with the volume discount', async () => {
    const product = firstProduct();
    const res = await postForm(`${canvasUrl}/quote`, {
      signed_request: signed(),
      productCode: product.code,
      quantity: '50'
    });
    expect(res.status).toBe(200);
    const expected = Math.round(product.cents * 50 * 0.92);
    const price = /data-testid="price">([^<]+)</.exec(res.text)?.[1];
    expect(price).toBe(
      `${(expected / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`
    );
    expect(res.text).toContain('<dt>Volume discount</dt><dd>8%</dd>');
    const unknown = await postForm(`${canvasUrl}/quote`, {
      signed_request: signed(),
      productCode: 'P-99999',
      quantity: '1'
    });
    expect([unknown.status, problemCode(unknown.text)]).toEqual([422, 'UNKNOWN_PRODUCT']);
    const zero = await postForm(`${canvasUrl}/quote`, {
      signed_request: signed(),
      productCode: product.code,
      quantity: '0'
    });
    expect([zero.status, problemCode(zero.text)]).toEqual([422, 'INVALID_QUANTITY']);
  });

  it("writes the ERP's price to the Opportunity with the token from the signed request, and stores the token nowhere", async () => {
    const product = firstProduct();
    const res = await postForm(`${canvasUrl}/apply`, {
      signed_request: signed(),
      productCode: product.code,
      quantity: '10',
      // A price sent by the browser is ignored: the ERP recomputes it.
      price: '0.01'
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-testid="saved"');
    const expectedCents = Math.round(product.cents * 10 * 0.95);
    const [patch] = standIn.requests;
    expect(standIn.requests).toHaveLength(1);
    expect(patch?.method).toBe('PATCH');
    expect(patch?.path).toBe(`/services/data/v67.0/sobjects/Opportunity/${OPPORTUNITY_ID}`);
    expect(patch?.headers.authorization).toBe(`Bearer ${USER_TOKEN}`);
    expect(patch?.status).toBe(204);
    expect(JSON.parse(patch?.body ?? '{}')).toEqual({
      ERP_Quoted_Price__c: expectedCents / 100,
      ERP_Pricing_Basis__c: expect.stringContaining(`${product.code} `)
    });
    expect(standIn.records.get('Opportunity')?.get(OPPORTUNITY_ID)).toMatchObject({
      ERP_Quoted_Price__c: expectedCents / 100
    });
    // The page publishes the event for the Visualforce host.
    const data = JSON.parse(
      /<script type="application\/json" id="canvas-data">([^<]*)<\/script>/.exec(res.text)?.[1] ??
        'null'
    ) as { event: { name: string; payload: Record<string, unknown> } };
    expect(data.event).toEqual({
      name: 'erp.priceChosen',
      payload: {
        recordId: OPPORTUNITY_ID,
        price: expectedCents / 100,
        currency: 'USD',
        basis: expect.stringContaining(product.code)
      }
    });

    // Nothing of the token stays on the ERP side: not in the database, not in the logs, not in the live traffic.
    const tables = server.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .all() as string[];
    for (const table of tables) {
      const rows = server.db.prepare(`SELECT * FROM "${table}"`).all();
      expect({ table, leaked: JSON.stringify(rows).includes(USER_TOKEN) }).toEqual({
        table,
        leaked: false
      });
    }
    expect(JSON.stringify(server.logs)).not.toContain(USER_TOKEN);
    expect(JSON.stringify(server.app.erp.traffic.recent())).not.toContain(USER_TOKEN);
  });

  it("shows the org's refusal as a 4xx page: expired session, no access, validation rule, unknown record", async () => {
    const product = firstProduct();
    const apply = () =>
      postForm(`${canvasUrl}/apply`, {
        signed_request: signed(),
        productCode: product.code,
        quantity: '2'
      });

    standIn.failNext({
      status: 403,
      body: [
        {
          message: 'insufficient access rights on object id',
          errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY'
        }
      ]
    });
    const forbidden = await apply();
    expect([forbidden.status, problemCode(forbidden.text)]).toEqual([
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY'
    ]);

    standIn.rejectRecords(
      'Opportunity',
      'ERP_Quoted_Price__c',
      Math.round(product.cents * 2) / 100,
      'Price needs approval'
    );
    const invalid = await apply();
    expect([invalid.status, problemCode(invalid.text)]).toEqual([
      422,
      'FIELD_CUSTOM_VALIDATION_EXCEPTION'
    ]);
    expect(invalid.text).toContain('Price needs approval');

    standIn.records.set('Opportunity', new Map());
    const missing = await apply();
    expect([missing.status, problemCode(missing.text)]).toEqual([404, 'NOT_FOUND']);

    standIn.revokeTokens();
    const expired = await apply();
    expect([expired.status, problemCode(expired.text)]).toEqual([401, 'INVALID_SESSION_ID']);
    expect(expired.text).toContain('reload the record page');
    // Still the tool, not a dead end: the form is there to try again.
    expect(expired.text).toContain('<option');
  });

  it('refuses to write a price in another currency than the org’s', async () => {
    const request = canvasRequest(standIn.url);
    (
      request.context as { organization: { currencyIsoCode: string } }
    ).organization.currencyIsoCode = 'EUR';
    const res = await postForm(`${canvasUrl}/apply`, {
      signed_request: sign(request),
      productCode: firstProduct().code,
      quantity: '1'
    });
    expect([res.status, problemCode(res.text)]).toEqual([422, 'CURRENCY_MISMATCH']);
    expect(standIn.requests).toEqual([]);
  });

  it('keeps the rest of the pattern behind the bearer secret', async () => {
    const res = await fetch(`${server.baseUrl}/ui-integration/openapi.json`);
    expect(res.status).toBe(401);
    await res.text();
  });

  it('refuses every canvas request while no consumer secret is configured', async () => {
    const unconfigured = await start({ UI_INTEGRATION_INSTANCE_HOSTS: '127.0.0.1' });
    try {
      for (const path of ['', '/quote', '/apply']) {
        const res = await postForm(`${unconfigured.baseUrl}/ui-integration/canvas${path}`, {
          signed_request: signed(),
          productCode: firstProduct().code,
          quantity: '1'
        });
        expect([res.status, problemCode(res.text)]).toEqual([403, 'CANVAS_NOT_CONFIGURED']);
        expect(res.text).toContain('UI_INTEGRATION_CONSUMER_SECRET');
      }
      expect(standIn.requests).toEqual([]);
    } finally {
      await unconfigured.close();
    }
  });
});
