import { createHmac } from 'node:crypto';
import { STAND_IN_ORG_ID, STAND_IN_USER_ID } from '../stand-ins/salesforce-rest';

/** The consumer secret the tests configure and sign with (never a real one). */
export const CONSUMER_SECRET = 'test-consumer-secret-0123456789ABCDEF';
/** An Opportunity id (key prefix 006, 18 characters). */
export const OPPORTUNITY_ID = '006000000000042AAA';
/** The user's token inside the signed request; the stand-in accepts it as a static token. */
export const USER_TOKEN = `${STAND_IN_ORG_ID}!user-session-token-from-the-signed-request`;

/**
 * A CanvasRequest shaped like the Canvas Developer Guide's example (client, context.user / organization /
 * environment), issued `issuedAt` seconds since the epoch, for `instanceUrl`.
 */
export function canvasRequest(
  instanceUrl: string,
  overrides: { issuedAt?: number; algorithm?: string; environment?: Record<string, unknown> } = {}
): Record<string, unknown> {
  return {
    algorithm: overrides.algorithm ?? 'HMACSHA256',
    issuedAt: overrides.issuedAt ?? Math.floor(Date.now() / 1000),
    userId: STAND_IN_USER_ID,
    client: {
      refreshToken: null,
      instanceId: '_:ERP_Pricing_Canvas:j_id0:j_id1:canvasapp',
      targetOrigin: instanceUrl,
      instanceUrl,
      oauthToken: USER_TOKEN
    },
    context: {
      user: {
        userId: STAND_IN_USER_ID,
        userName: 'rep@example.com',
        firstName: 'Rita',
        lastName: 'Rep',
        email: 'rep@example.com',
        fullName: 'Rita Rep',
        locale: 'en_US',
        language: 'en_US',
        timeZone: 'Europe/Paris',
        currencyISOCode: 'USD'
      },
      organization: {
        organizationId: `${STAND_IN_ORG_ID}AAA`,
        name: 'Integration Patterns Demo',
        multicurrencyEnabled: false,
        currencyIsoCode: 'USD',
        namespacePrefix: null
      },
      environment: overrides.environment ?? {
        displayLocation: 'Visualforce',
        locationUrl: `${instanceUrl}/apex/ErpPricingCanvas?id=${OPPORTUNITY_ID}`,
        uiTheme: 'Theme4d',
        dimensions: { width: '100%', height: '600px' },
        version: { api: '67.0', season: 'SUMMER' },
        parameters: { recordId: OPPORTUNITY_ID },
        record: {
          attributes: {
            type: 'Opportunity',
            url: `/services/data/v67.0/sobjects/Opportunity/${OPPORTUNITY_ID}`
          },
          Id: OPPORTUNITY_ID,
          Name: 'Acme — 500 widgets'
        }
      },
      links: { restUrl: '/services/data/v67.0/' },
      application: { developerName: 'ERP_Pricing_Canvas', authType: 'SIGNED_REQUEST' }
    }
  };
}

/** `<base64 HMAC-SHA256 of the payload>.<base64 JSON>`, as Salesforce builds it, signed with `secret`. */
export function sign(request: unknown, secret = CONSUMER_SECRET): string {
  const payload = Buffer.from(JSON.stringify(request), 'utf8').toString('base64');
  const signature = createHmac('sha256', secret).update(payload, 'utf8').digest('base64');
  return `${signature}.${payload}`;
}

/** An `application/x-www-form-urlencoded` POST of `fields`, as the Canvas frame (or the page's forms) sends it. */
export async function postForm(
  url: string,
  fields: Record<string, string>
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString()
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The `config` overrides a test server needs for the canvas: the secret and the loopback stand-in as instance. */
export const CANVAS_ENV = {
  UI_INTEGRATION_CONSUMER_SECRET: CONSUMER_SECRET,
  UI_INTEGRATION_INSTANCE_HOSTS: '127.0.0.1'
} as const;
