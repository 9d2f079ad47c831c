import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { auth, startServer, type RunningServer } from '../support';

/**
 * Real-browser test of the console: Debian's Chromium driven by playwright-core. CI installs Chromium
 * (`apt-get install -y chromium`); without it this test FAILS on purpose rather than skipping silently.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync'
];

jest.setTimeout(60_000);

describe('console in a real browser', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH; ` +
          'the console browser test does not skip.'
      );
    }
    server = await startServer();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
    page.on('requestfailed', (request) => {
      // The event stream is cut when the page closes at the end; anything else failing is a problem.
      if (!request.url().endsWith('/console/events')) problems.push(`request: ${request.url()}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  const echo = async (correlationId: string): Promise<number> => {
    const response = await fetch(`${server.baseUrl}/demo/echo`, {
      headers: { ...auth, 'x-correlation-id': correlationId }
    });
    await response.text();
    return response.status;
  };

  it('loads with its patterns, connects to the live stream, and logs no errors', async () => {
    const response = await page.goto(`${server.baseUrl}/`);
    expect(response?.status()).toBe(200);
    await page.locator('#stream-status', { hasText: 'Live' }).waitFor();
    const card = page.locator('article[data-pattern="demo"]');
    await card.waitFor();
    expect(await card.locator('.pattern-title').textContent()).toBe('Demo pattern');
    expect(await card.locator('.endpoints li').count()).toBe(2);
    expect(await card.locator('.endpoints code').first().textContent()).toBe('/demo/echo');
    expect(await card.locator('.pattern-state').textContent()).toBe('Healthy');
    // The security card: who may open the console, the rate limit in force (CSP-compliant page: no errors below).
    await page.locator('#security').waitFor();
    expect(await page.locator('#security-exposure').textContent()).toBe('This machine only');
    expect(await page.locator('#security-console').textContent()).toContain('CONSOLE_ACCESS=local');
    expect(await page.locator('#security-rate-limit').textContent()).toBe(
      '6000 requests per 60 s per secret; 60 per client without one'
    );

    // The console's own requests are recorded but hidden until asked for.
    const ownRequest = page.locator('#traffic-body tr.console-request', {
      hasText: '/console/app.js'
    });
    await ownRequest.first().waitFor({ state: 'attached' });
    expect(await ownRequest.first().isVisible()).toBe(false);
    await page.locator('#show-console').check();
    expect(await ownRequest.first().isVisible()).toBe(true);
    await page.locator('#show-console').uncheck();
    expect(problems).toEqual([]);
  });

  it('shows a request made to an endpoint in the live traffic view', async () => {
    const id = randomUUID();
    expect(await echo(id)).toBe(200);
    const row = page.locator(`#traffic-body tr[data-correlation-id="${id}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual(['demo', 'GET', '/demo/echo', '200']);
    expect(cells[6]).toBe(id);
  });

  it('applies a fault knob change to the next request', async () => {
    const card = page.locator('article[data-pattern="demo"]');
    await card.locator('input[name="errorRate"]').fill('1');
    await card.locator('select[name="errorStatus"]').selectOption('502');
    await card.locator('[data-action="apply"]').click();
    await card.locator('.knob-message', { hasText: 'Saved.' }).waitFor();
    expect(await card.locator('.pattern-state').textContent()).toBe('Faults active');
    expect(server.app.erp.faults.get('demo')).toMatchObject({ errorRate: 1, errorStatus: 502 });

    const failing = randomUUID();
    expect(await echo(failing)).toBe(502);
    const row = page.locator(`#traffic-body tr[data-correlation-id="${failing}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('502');

    await card.locator('[data-action="reset"]').click();
    await card.locator('.pattern-state', { hasText: 'Healthy' }).waitFor();
    expect(await echo(randomUUID())).toBe(200);
    expect(problems).toEqual([]);
  });

  it('shows knob changes made elsewhere (another tab or the API)', async () => {
    const response = await fetch(`${server.baseUrl}/console/api/faults/demo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hang: true })
    });
    expect(response.status).toBe(200);
    const card = page.locator('article[data-pattern="demo"]');
    await card.locator('.pattern-state', { hasText: 'Hanging' }).waitFor();
    expect(await card.locator('input[name="hang"]').isChecked()).toBe(true);
    expect(problems).toEqual([]);
  });
});
