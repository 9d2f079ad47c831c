import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  DEFAULT_DEV_SECRET,
  assertSafeExposure,
  exposureOf,
  isLoopbackHost,
  loadConfig
} from '../../src/config';
import { buildServer } from '../../src/server';
import { TEST_SECRET, tempDir } from '../support';

/**
 * Exposure-aware start-up: the development secret (published in the repository) is refused whenever the server is
 * reachable from outside — a non-loopback HOST, or a PUBLIC_URL that is not loopback (a tunnel) — and accepted on
 * loopback only, as before.
 */
describe('loopback detection', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['erp.localhost', true],
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['10.0.0.5', false],
    ['my-tunnel.example.com', false],
    ['localhost.example.com', false],
    ['128.0.0.1', false]
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('names what exposes the server', () => {
    expect(exposureOf('localhost', undefined)).toEqual({ exposed: false, reasons: [] });
    expect(exposureOf('127.0.0.1', 'http://localhost:3000')).toEqual({
      exposed: false,
      reasons: []
    });
    expect(exposureOf('0.0.0.0', 'https://my-tunnel.example.com')).toEqual({
      exposed: true,
      reasons: ['HOST=0.0.0.0', 'PUBLIC_URL=https://my-tunnel.example.com']
    });
    expect(exposureOf('localhost', 'https://my-tunnel.example.com').reasons).toEqual([
      'PUBLIC_URL=https://my-tunnel.example.com'
    ]);
  });
});

describe('the development secret is refused when exposed', () => {
  const hosts = ['localhost', '127.0.0.1', '::1', '0.0.0.0', '192.168.1.20'];
  const publicUrls = [
    undefined,
    'http://localhost:3000',
    'http://127.0.0.1:3000',
    'https://my-tunnel.example.com'
  ];
  const secrets = [
    ['unset', undefined],
    ['the development secret written out', DEFAULT_DEV_SECRET],
    ['an own secret', TEST_SECRET]
  ] as const;
  const cases = hosts.flatMap((host) =>
    publicUrls.flatMap((publicUrl) =>
      secrets.map(([label, secret]) => ({ host, publicUrl, label, secret }))
    )
  );

  it.each(cases)(
    'HOST=$host PUBLIC_URL=$publicUrl secret $label',
    ({ host, publicUrl, secret }) => {
      const config = loadConfig({
        HOST: host,
        ...(publicUrl === undefined ? {} : { PUBLIC_URL: publicUrl }),
        ...(secret === undefined ? {} : { ERP_SHARED_SECRET: secret })
      });
      const exposed =
        !['localhost', '127.0.0.1', '::1'].includes(host) ||
        publicUrl?.startsWith('https://') === true;
      const refused = exposed && secret !== TEST_SECRET;
      if (refused) {
        expect(() => assertSafeExposure(config)).toThrow(ConfigError);
      } else {
        expect(() => assertSafeExposure(config)).not.toThrow();
      }
    }
  );

  it('refuses with one message naming ERP_SHARED_SECRET, why, and how to generate one', () => {
    let caught: unknown;
    try {
      assertSafeExposure(
        loadConfig({ HOST: '0.0.0.0', PUBLIC_URL: 'https://my-tunnel.example.com' })
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ERP_SHARED_SECRET must be set/);
    expect(problems[0]).toContain('HOST=0.0.0.0, PUBLIC_URL=https://my-tunnel.example.com');
    expect(problems[0]).toContain('openssl rand -hex 32');
    expect(problems[0]).toContain('ERP_Credential');
  });

  it('refuses the development secret kept as the previous one of a rotation', () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://my-tunnel.example.com',
      ERP_SHARED_SECRET: TEST_SECRET,
      ERP_SHARED_SECRET_PREVIOUS: DEFAULT_DEV_SECRET
    });
    expect(() => assertSafeExposure(config)).toThrow(/ERP_SHARED_SECRET must be set/);
  });

  it('buildServer refuses too, whatever entry point built the configuration', async () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://my-tunnel.example.com',
      DATABASE_PATH: ':memory:',
      LOG_LEVEL: 'silent'
    });
    await expect(buildServer(config, { patterns: [], logger: false })).rejects.toThrow(
      /ERP_SHARED_SECRET must be set/
    );
  });
});

/** `npm start` as a real process. */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(ROOT, 'remote-system', 'src', 'main.ts');

function run(env: Record<string, string>): {
  exited: Promise<number | null>;
  output: () => string;
  kill: () => void;
} {
  const child = spawn(TSX, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      ENV_FILE: path.join(ROOT, 'remote-system', 'test', 'no-such.env'),
      SEED_SHIPMENTS: '50',
      ...env
    }
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return {
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    output: () => output,
    kill: () => child.kill('SIGTERM')
  };
}

async function waitForListening(started: ReturnType<typeof run>): Promise<void> {
  let done = false;
  void started.exited.then(() => (done = true));
  for (let i = 0; i < 400 && !done; i++) {
    if (/listening on http/.test(started.output())) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server did not start:\n${started.output()}`);
}

describe('npm start when exposed', () => {
  jest.setTimeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir.cleanup());

  it.each([
    ['a tunnel URL', { HOST: '127.0.0.1', PUBLIC_URL: 'https://my-tunnel.example.com' }],
    ['every interface', { HOST: '0.0.0.0' }]
  ])(
    'with %s and no ERP_SHARED_SECRET: exits 1 with one message, before creating the database',
    async (_label, env) => {
      const databasePath = path.join(dir.dir, `never-${env.HOST}.sqlite`);
      const started = run({ PORT: '0', DATABASE_PATH: databasePath, ...env });
      expect(await started.exited).toBe(1);
      const output = started.output().trim();
      expect(output).toMatch(/^Invalid configuration:\n {2}- ERP_SHARED_SECRET must be set/);
      expect(output).toContain('openssl rand -hex 32');
      expect(output.split('\n')).toHaveLength(2);
      expect(fs.existsSync(databasePath)).toBe(false);
    }
  );

  it('with its own secret: starts, says it is reachable from outside and that the console stays local', async () => {
    const started = run({
      PORT: '0',
      HOST: '127.0.0.1',
      PUBLIC_URL: 'https://my-tunnel.example.com',
      ERP_SHARED_SECRET: TEST_SECRET,
      DATABASE_PATH: path.join(dir.dir, 'exposed.sqlite')
    });
    await waitForListening(started);
    expect(started.output()).toContain(
      'reachable from outside (PUBLIC_URL=https://my-tunnel.example.com)'
    );
    expect(started.output()).toContain('console on this machine only (CONSOLE_ACCESS=local)');
    expect(started.output()).not.toContain('WARNING');
    started.kill();
    expect(await started.exited).toBe(0);
  });
});
