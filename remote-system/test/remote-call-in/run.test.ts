import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, seedDatabase } from '../../src/db';
import { main, parseArgs } from '../../src/remote-call-in/cli';
import { ACCOUNT_UPSERT_PATH, upsertCustomers } from '../../src/remote-call-in/customers';
import { formatSummary, runCallIn } from '../../src/remote-call-in/run';
import { SMALL_SEED, tempDir } from '../support';
import { CLIENT_ID, CLIENT_SECRET, startOrg, type OrgHarness } from './support';

describe('customer upserts through the Composite API', () => {
  let org: OrgHarness;
  beforeEach(async () => {
    org = await startOrg([]);
  });
  afterEach(() => org.close());

  it('sends 200 records a request, creates then updates, and keeps going past a refused record', async () => {
    const customers = Array.from({ length: 250 }, (_, i) => ({
      customerNumber: `C-${String(i + 1).padStart(6, '0')}`,
      name: `Customer ${i + 1}`
    }));
    org.standIn.rejectRecords('Account', 'ERP_Customer_Number__c', 'C-000007', 'Blocked customer');
    const first = await upsertCustomers(org.caller(), customers);
    const upserts = org.standIn.requests.filter((r) => r.path === ACCOUNT_UPSERT_PATH('67.0'));
    expect(
      upserts.map((r) => (JSON.parse(r.body) as { records: unknown[] }).records.length)
    ).toEqual([200, 50]);
    expect(JSON.parse(upserts[0]?.body ?? '{}')).toMatchObject({ allOrNone: false });
    expect(first.filter((c) => c.success)).toHaveLength(249);
    expect(first[6]).toEqual({
      customerNumber: 'C-000007',
      success: false,
      created: false,
      errors: ['FIELD_CUSTOM_VALIDATION_EXCEPTION: Blocked customer']
    });
    expect(first[0]).toMatchObject({ success: true, created: true });

    const again = await upsertCustomers(org.caller(), customers.slice(0, 3));
    expect(again.map((c) => c.created)).toEqual([false, false, false]);
    expect(again[0]?.id).toBe(first[0]?.id);
  });
});

describe('a call-in run', () => {
  let org: OrgHarness;
  let tmp: { dir: string; cleanup: () => void };
  let dbPath: string;

  beforeAll(() => {
    tmp = tempDir('call-in-');
    dbPath = path.join(tmp.dir, 'erp.sqlite');
    const db = openDatabase(dbPath);
    seedDatabase(db, SMALL_SEED);
    db.close();
  });
  afterAll(() => tmp.cleanup());
  beforeEach(async () => {
    org = await startOrg([]);
  });
  afterEach(() => org.close());

  it('upserts the customers, sends the orders in batches, and sums up', async () => {
    const db = openDatabase(dbPath);
    try {
      const summary = await runCallIn(db, org.caller(), {
        orders: 50,
        batchSize: 20,
        prefix: 'WEB-RUN'
      });
      expect(summary).toMatchObject({ sent: 50, created: 50, existing: 0, ok: true, rejected: [] });
      expect(summary.batches.map((b) => b.orders.length)).toEqual([20, 20, 10]);
      expect(new Set(summary.batches.map((b) => b.key)).size).toBe(3);
      expect(org.orders.orders.size).toBe(50);
      const text = formatSummary(summary, 'http://org');
      expect(text).toContain('sent 50 orders: 50 created, 0 existing');
      expect(text).toContain('result: OK');

      const rerun = await runCallIn(db, org.caller(), {
        orders: 5,
        batchSize: 200,
        prefix: 'WEB-RUN'
      });
      expect(rerun).toMatchObject({ created: 0, existing: 5, ok: true });
    } finally {
      db.close();
    }
  });

  it('reports orders whose customer was refused, and fails', async () => {
    const db = openDatabase(dbPath);
    try {
      const refused = db
        .prepare('SELECT customer_number FROM customers ORDER BY customer_number')
        .pluck()
        .get() as string;
      org.standIn.rejectRecords('Account', 'ERP_Customer_Number__c', refused, 'Duplicate rule');
      const summary = await runCallIn(db, org.caller(), {
        orders: 60,
        batchSize: 200,
        prefix: 'WEB-SKIP',
        random: mulberry(7)
      });
      expect(summary.ok).toBe(false);
      expect(summary.skipped.length).toBeGreaterThan(0);
      expect(summary.created + summary.skipped.length).toBe(60);
      expect(formatSummary(summary, 'x')).toMatch(
        new RegExp(
          `customer ${refused} not upserted: FIELD_CUSTOM_VALIDATION_EXCEPTION: Duplicate rule`
        )
      );
    } finally {
      db.close();
    }
  });

  it('npm run call-in: reads the SF_* settings, prints the summary, exits 0, or 1 on a rejection', async () => {
    const saved = { ...process.env };
    const lines: string[] = [];
    try {
      Object.assign(process.env, {
        ENV_FILE: path.join(tmp.dir, 'no.env'),
        DATABASE_PATH: dbPath,
        SF_CLIENT_ID: CLIENT_ID,
        SF_CLIENT_SECRET: CLIENT_SECRET,
        SF_LOGIN_URL: org.standIn.url,
        CALL_IN_BASE_DELAY_MS: '5'
      });
      delete process.env.SF_TARGET_ORG;
      delete process.env.SF_INSTANCE_URL;
      delete process.env.SF_ACCESS_TOKEN;
      expect(await main(['--orders', '12', '--prefix', 'WEB-CLI'], (l) => lines.push(l))).toBe(0);
      expect(lines.join('\n')).toContain(
        `Remote Call-In → ${org.standIn.url}/services/apexrest/v1/orders`
      );
      expect(lines.join('\n')).toContain('sent 12 orders: 12 created');

      lines.length = 0;
      org.standIn.failNext(
        { status: 400, body: { errors: [{ path: 'orders', message: 'refused' }] } },
        1
      );
      expect(
        await main(['--orders', '3', '--no-customers', '--prefix', 'WEB-BAD'], (l) => lines.push(l))
      ).toBe(1);
      expect(lines.join('\n')).toMatch(/- orders: refused\n[\s\S]*result: FAILED/);

      expect(await main(['--orders', 'many'], (l) => lines.push(l))).toBe(2);
    } finally {
      process.env = saved;
    }
  });

  it('parses its arguments strictly', () => {
    expect(parseArgs(['--orders', '50'])).toEqual({ orders: 50, customers: true });
    expect(() => parseArgs(['--orders', '0'])).toThrow(/--orders/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown argument/);
    expect(fs.existsSync(dbPath)).toBe(true);
  });
});

function mulberry(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
