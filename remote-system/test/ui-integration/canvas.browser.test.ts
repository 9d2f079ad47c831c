import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createUiIntegrationModule } from '../../src/ui-integration';
import { loadUiIntegrationConfig } from '../../src/ui-integration/config';
import { startSalesforceStandIn, type SalesforceStandIn } from '../stand-ins/salesforce-rest';
import { startTestServer, type TestServer } from '../support';
import { CANVAS_ENV, OPPORTUNITY_ID, USER_TOKEN, canvasRequest, sign } from './support';

/**
 * The canvas page in a real browser (Debian's Chromium through playwright-core, as the console's browser test):
 * the page renders under its own CSP with no console error, its script finds the Canvas SDK and asks it to grow the
 * frame, and after a write-back publishes erp.priceChosen. The SDK normally comes from the org's instance; here the
 * browser is given a small stand-in for it that records the calls.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];

const FAKE_SDK = `
window.__canvasCalls = [];
window.Sfdc = {
  canvas: Object.assign(function (ready) { ready(); }, {
    client: {
      autogrow: function (client) { window.__canvasCalls.push(['autogrow', client.instanceId]); },
      publish: function (client, event) { window.__canvasCalls.push(['publish', event.name, event.payload]); }
    }
  })
};`;

jest.setTimeout(60_000);

describe('canvas page in a real browser', () => {
  let standIn: SalesforceStandIn;
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}; install it or set CHROMIUM_PATH (this test does not skip).`
      );
    }
    standIn = await startSalesforceStandIn({ staticTokens: [USER_TOKEN] });
    standIn.records.set(
      'Opportunity',
      new Map([[OPPORTUNITY_ID, { Id: OPPORTUNITY_ID, Name: 'Acme' }]])
    );
    server = await startTestServer({
      patterns: [createUiIntegrationModule({ config: loadUiIntegrationConfig({ ...CANVAS_ENV }) })],
      config: { ...CANVAS_ENV }
    });
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-canvas-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS
    });
    await context.route(`${standIn.url}/canvas/sdk/js/67.0/canvas-all.js`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: FAKE_SDK })
    );
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await standIn?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('opens from a POSTed signed request, prices, writes back and publishes the event, under its CSP', async () => {
    // What the Canvas frame does: POST the signed request to the canvas URL.
    await page.setContent(
      `<form method="post" action="${server.baseUrl}/ui-integration/canvas">` +
        `<input type="hidden" name="signed_request" value="${sign(canvasRequest(standIn.url))}"></form>`
    );
    await Promise.all([
      page.waitForURL(`${server.baseUrl}/ui-integration/canvas`),
      page.locator('form').evaluate((f) => (f as HTMLFormElement).submit())
    ]);
    await page.locator('html[data-canvas-sdk="ready"]').waitFor();
    expect(await page.getByTestId('context').textContent()).toContain('Rita Rep');

    const product =
      (await page.locator('select[name="productCode"] option').first().getAttribute('value')) ?? '';
    await page.locator('select[name="productCode"]').selectOption(product);
    await page.locator('input[name="quantity"]').fill('12');
    await Promise.all([
      page.waitForURL('**/ui-integration/canvas/quote'),
      page.getByRole('button', { name: 'Price it' }).click()
    ]);
    const price = await page.getByTestId('price').textContent();
    expect(price).toMatch(/^[\d,]+\.\d{2} USD$/);

    await Promise.all([
      page.waitForURL('**/ui-integration/canvas/apply'),
      page.getByRole('button', { name: 'Use this price on the Opportunity' }).click()
    ]);
    await page.locator('html[data-canvas-sdk="published"]').waitFor();
    expect(await page.getByTestId('saved').textContent()).toContain(price ?? 'missing');

    const calls = (await page.evaluate('window.__canvasCalls')) as unknown[][];
    expect(calls).toEqual([
      ['autogrow', '_:ERP_Pricing_Canvas:j_id0:j_id1:canvasapp'],
      [
        'publish',
        'erp.priceChosen',
        expect.objectContaining({ recordId: OPPORTUNITY_ID, currency: 'USD' })
      ]
    ]);
    const patch = standIn.requests.find((r) => r.method === 'PATCH');
    expect(patch?.headers.authorization).toBe(`Bearer ${USER_TOKEN}`);
    expect(problems).toEqual([]);
  });
});
