import {
  ConfigError,
  DEFAULT_DATABASE_PATH,
  DEFAULT_DEV_SECRET,
  EnvReader,
  loadConfig,
  parseSfOrgDisplay
} from '../src/config';

describe('loadConfig', () => {
  it('uses documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: 'localhost',
      databasePath: DEFAULT_DATABASE_PATH,
      publicUrl: 'http://localhost:3000',
      sharedSecret: DEFAULT_DEV_SECRET,
      usingDefaultSecret: true,
      seedShipments: 100_000,
      logLevel: 'info',
      bodyLimitBytes: 1_048_576,
      consoleAccess: 'local',
      salesforce: { mode: 'none' }
    });
    expect(DEFAULT_DATABASE_PATH).toMatch(/remote-system[/\\]data[/\\]erp\.sqlite$/);
  });

  it('reads and normalises every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_PATH: '/tmp/x.sqlite',
      PUBLIC_URL: 'https://erp.example.com/',
      ERP_SHARED_SECRET: '  a-long-enough-secret  ',
      SEED_SHIPMENTS: '10000000',
      LOG_LEVEL: 'WARN',
      BODY_LIMIT_BYTES: '2048',
      CONSOLE_ACCESS: 'local'
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databasePath: '/tmp/x.sqlite',
      publicUrl: 'https://erp.example.com',
      sharedSecret: 'a-long-enough-secret',
      usingDefaultSecret: false,
      seedShipments: 10_000_000,
      logLevel: 'warn',
      bodyLimitBytes: 2048,
      consoleAccess: 'local'
    });
    expect(loadConfig({ PORT: '4000' }).publicUrl).toBe('http://localhost:4000');
  });

  it('reports every bad value at once, naming the variable', () => {
    let caught: unknown;
    try {
      loadConfig({
        PORT: '70000',
        PUBLIC_URL: 'not a url',
        ERP_SHARED_SECRET: 'short',
        SEED_SHIPMENTS: '-1',
        LOG_LEVEL: 'loud',
        CONSOLE_ACCESS: 'public',
        BODY_LIMIT_BYTES: '12kb'
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of [
      'PORT',
      'PUBLIC_URL',
      'ERP_SHARED_SECRET',
      'SEED_SHIPMENTS',
      'LOG_LEVEL',
      'CONSOLE_ACCESS',
      'BODY_LIMIT_BYTES'
    ]) {
      expect(problems).toContain(name);
    }
    expect((caught as ConfigError).problems).toHaveLength(7);
  });

  it('keeps PUBLIC_URL apart from the localhost default, so links a caller follows use the request host without it', () => {
    expect(loadConfig({ PORT: '4000' })).toMatchObject({ publicUrl: 'http://localhost:4000' });
    expect(loadConfig({ PORT: '4000' }).explicitPublicUrl).toBeUndefined();
    expect(loadConfig({ PUBLIC_URL: 'https://erp.example.com' })).toMatchObject({
      publicUrl: 'https://erp.example.com',
      explicitPublicUrl: 'https://erp.example.com'
    });
  });

  it('rejects a non-http PUBLIC_URL', () => {
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://erp.example.com' })).toThrow(/PUBLIC_URL/);
  });

  describe('Salesforce connection', () => {
    it('takes an instance URL and access token together', () => {
      expect(
        loadConfig({
          SF_INSTANCE_URL: 'https://acme.my.salesforce.com/',
          SF_ACCESS_TOKEN: '00D!token'
        }).salesforce
      ).toEqual({
        mode: 'token',
        instanceUrl: 'https://acme.my.salesforce.com',
        accessToken: '00D!token',
        apiVersion: '67.0'
      });
    });

    it('refuses half a token configuration', () => {
      expect(() => loadConfig({ SF_ACCESS_TOKEN: 'x' })).toThrow(
        /SF_INSTANCE_URL and SF_ACCESS_TOKEN/
      );
    });

    it('reads an sf CLI org alias', () => {
      expect(loadConfig({ SF_TARGET_ORG: 'erp-demo', SF_API_VERSION: '66.0' }).salesforce).toEqual({
        mode: 'sf-cli',
        targetOrg: 'erp-demo',
        apiVersion: '66.0'
      });
    });

    it('refuses both ways at once and a bad API version', () => {
      expect(() =>
        loadConfig({
          SF_TARGET_ORG: 'erp-demo',
          SF_INSTANCE_URL: 'https://acme.my.salesforce.com',
          SF_ACCESS_TOKEN: 'x'
        })
      ).toThrow(/not both/);
      expect(() => loadConfig({ SF_TARGET_ORG: 'erp', SF_API_VERSION: 'v67' })).toThrow(
        /SF_API_VERSION/
      );
    });
  });
});

describe('parseSfOrgDisplay', () => {
  it('extracts the instance URL and access token', () => {
    const json = JSON.stringify({
      status: 0,
      result: {
        instanceUrl: 'https://acme-dev-ed.my.salesforce.com/',
        accessToken: '00Dxx!AQ',
        username: 'admin@acme.test',
        alias: 'erp'
      }
    });
    expect(parseSfOrgDisplay(json)).toEqual({
      instanceUrl: 'https://acme-dev-ed.my.salesforce.com',
      accessToken: '00Dxx!AQ',
      username: 'admin@acme.test'
    });
  });

  it('surfaces the CLI error message', () => {
    expect(() =>
      parseSfOrgDisplay(JSON.stringify({ status: 1, message: 'No authorization found' }))
    ).toThrow('sf org display failed: No authorization found');
    expect(() => parseSfOrgDisplay('Warning: not json')).toThrow(/--json/);
    expect(() => parseSfOrgDisplay(JSON.stringify({ status: 0, result: {} }))).toThrow(
      /instanceUrl/
    );
  });
});

describe('EnvReader (the readers a pattern config uses)', () => {
  it('returns the fallbacks for unset or blank variables', () => {
    const reader = new EnvReader({ BLANK: '   ' });
    expect(reader.integer('BLANK', 7, 1, 10)).toBe(7);
    expect(reader.url('MISSING')).toBeUndefined();
    expect(reader.url('MISSING', 'http://fallback')).toBe('http://fallback');
    expect(reader.oneOf('MISSING', ['push', 'pull'] as const, 'pull')).toBe('pull');
    expect(reader.boolean('MISSING', true)).toBe(true);
    expect(reader.problems).toEqual([]);
    expect(() => reader.throwIfInvalid()).not.toThrow();
  });

  it('parses good values', () => {
    const reader = new EnvReader({
      SIZE: ' 200 ',
      HOOK: 'https://example.com/hook//',
      MODE: 'PUSH',
      ON: 'yes'
    });
    expect(reader.integer('SIZE', 1, 1, 1000)).toBe(200);
    expect(reader.url('HOOK')).toBe('https://example.com/hook');
    expect(reader.oneOf('MODE', ['push', 'pull'] as const, 'pull')).toBe('push');
    expect(reader.boolean('ON', false)).toBe(true);
    expect(reader.problems).toEqual([]);
  });

  it('names every bad variable, then throws them all at once', () => {
    const reader = new EnvReader({
      SIZE: '12abc',
      BIG: '5000',
      HOOK: 'ftp://example.com',
      REL: '/relative',
      MODE: 'sideways',
      ON: 'maybe'
    });
    reader.integer('SIZE', 1, 1, 1000);
    reader.integer('BIG', 1, 1, 1000);
    reader.url('HOOK');
    reader.url('REL');
    reader.oneOf('MODE', ['push', 'pull'] as const, 'pull');
    reader.boolean('ON', false);
    expect(reader.problems).toEqual([
      'SIZE must be a whole number between 1 and 1000, got "12abc"',
      'BIG must be between 1 and 1000, got 5000',
      'HOOK must be an http(s) URL, got "ftp://example.com"',
      'REL must be an absolute URL, got "/relative"',
      'MODE must be one of "push", "pull", got "sideways"',
      'ON must be true or false, got "maybe"'
    ]);
    expect(() => reader.throwIfInvalid()).toThrow(ConfigError);
    expect(() => reader.throwIfInvalid()).toThrow(/SIZE must be .*\n.*BIG must be/s);
  });

  it('keeps the variables the configuration was read from, for the pattern configs', () => {
    const env = { ERP_SHARED_SECRET: 'a-long-enough-secret', ORDER_SYNC_MODE: 'pull' };
    expect(loadConfig(env).env).toBe(env);
  });
});
