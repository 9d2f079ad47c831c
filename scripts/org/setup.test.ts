import { parseSetupArguments } from './setup';
import { toCsv } from './csv';
import { buildSampleDataSets, SAMPLE_ACCOUNTS, SAMPLE_PRODUCTS } from './sample-data';
import { customerAt } from '../../remote-system/src/db/sample-data';

describe('parseSetupArguments', () => {
  it('uses defaults and reads the remote system settings from the environment', () => {
    expect(
      parseSetupArguments(
        [],
        { REMOTE_SYSTEM_URL: 'https://erp.example.com', ERP_SHARED_SECRET: 's' },
        '/p'
      )
    ).toEqual({
      projectRoot: '/p',
      alias: 'integration-patterns',
      durationDays: 7,
      devHub: undefined,
      remoteSystemUrl: 'https://erp.example.com',
      erpSharedSecret: 's',
      open: true
    });
  });

  it('takes --alias, --days, --dev-hub and --no-open, and never opens a browser in CI', () => {
    const parsed = parseSetupArguments(
      ['--alias', 'demo-2', '--days', '30', '--dev-hub', 'Hub', '--no-open'],
      {},
      '/p'
    );
    expect(parsed).toMatchObject({ alias: 'demo-2', durationDays: 30, devHub: 'Hub', open: false });
    expect(parseSetupArguments([], { CI: 'true' }, '/p').open).toBe(false);
  });

  it.each([
    [['--days', '0'], /--days must be a whole number from 1 to 30/],
    [['--days', '31'], /--days must be a whole number from 1 to 30/],
    [['--days', 'two'], /--days must be a whole number from 1 to 30/],
    [['--alias', 'bad alias'], /--alias may contain/],
    [['--unknown'], /Unknown option '--unknown'/]
  ])('rejects %j', (argv, message) => {
    expect(() => parseSetupArguments(argv, {}, '/p')).toThrow(message);
  });
});

describe('toCsv', () => {
  it('quotes cells that need it and writes nulls as #N/A', () => {
    expect(
      toCsv([
        { Name: 'Plain', Note: 'line\nbreak', Count: 3, Active: true },
        { Name: 'a,b', Note: null, Count: 0, Active: false }
      ])
    ).toBe('Name,Note,Count,Active\nPlain,"line\nbreak",3,true\n"a,b",#N/A,0,false\n');
  });

  it('rejects rows whose columns differ from the header', () => {
    expect(() => toCsv([{ A: 1 }, { B: 2 }])).toThrow('row 2 has columns B, expected A');
  });

  it('rejects an empty row list', () => {
    expect(() => toCsv([])).toThrow('no rows to write');
  });
});

describe('buildSampleDataSets', () => {
  it('matches the ERP seed: one Account per ERP customer and one Product2 per ERP product', () => {
    const [accounts, products] = buildSampleDataSets();
    expect(accounts?.records).toHaveLength(SAMPLE_ACCOUNTS);
    expect(accounts?.records[0]).toEqual(
      expect.objectContaining({
        ERP_Customer_Number__c: customerAt(1).customerNumber,
        Name: customerAt(1).name
      })
    );
    expect(new Set(accounts?.records.map((record) => record.ERP_Customer_Number__c)).size).toBe(
      SAMPLE_ACCOUNTS
    );
    expect(products?.records).toHaveLength(SAMPLE_PRODUCTS);
    expect(products?.records[0]).not.toHaveProperty('UnitPrice');
    expect(() => toCsv(products?.records ?? [])).not.toThrow();
  });
});
