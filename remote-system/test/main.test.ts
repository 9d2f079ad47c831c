import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_SECRET, tempDir } from './support';

/** `npm start` as a real process: first-run seed, printed endpoints, SIGTERM → graceful stop, bad config → exit 1. */
const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(ROOT, 'remote-system', 'src', 'main.ts');

jest.setTimeout(60_000);

interface Started {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  const child = spawn(TSX, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      // A developer's own .env must not leak into the test.
      ENV_FILE: path.join(ROOT, 'remote-system', 'test', 'no-such.env'),
      ...env
    }
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(predicate: () => RegExpMatchArray | null, exited: Promise<unknown>) {
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; i < 400; i++) {
    const match = predicate();
    if (match) return match;
    if (done) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('server did not start');
}

describe('npm start (remote-system/src/main.ts)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir.cleanup());

  it('seeds on first run, prints its endpoints, serves, and stops gracefully on SIGTERM', async () => {
    const databasePath = path.join(dir.dir, 'data', 'erp.sqlite');
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: databasePath,
      SEED_SHIPMENTS: '300',
      ERP_SHARED_SECRET: TEST_SECRET
    };
    const first = start(env);
    const match = await waitFor(
      () => /listening on http:\/\/localhost:(\d+)/.exec(first.output()),
      first.exited
    );
    const port = match[1];
    expect(first.output()).toContain(
      'Seeded 1000 customers, 500 products, 5000 orders, 300 shipments'
    );
    expect(first.output()).toContain(`console   http://localhost:${port}/`);
    expect(first.output()).toMatch(
      /\(\/request-reply, bearer auth\)\n +GET +http:\/\/localhost:\d+\/request-reply\//
    );
    expect(first.output()).not.toContain('WARNING: ERP_SHARED_SECRET');
    expect(fs.existsSync(databasePath)).toBe(true);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const credit = await fetch(`http://127.0.0.1:${port}/request-reply/credit/C-000001`, {
      headers: { authorization: `Bearer ${TEST_SECRET}` }
    });
    expect(credit.status).toBe(200);
    await credit.text();

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('SIGTERM received');
    expect(first.output()).toContain('Stopped.');

    // Second start: the database is already there, nothing is reseeded; no secret → a warning.
    const second = start({ ...env, ERP_SHARED_SECRET: '' });
    await waitFor(
      () => /listening on http:\/\/localhost:(\d+)/.exec(second.output()),
      second.exited
    );
    expect(second.output()).not.toContain('Seeding');
    expect(second.output()).toContain('WARNING: ERP_SHARED_SECRET is not set');
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('reads settings from ENV_FILE without overriding the environment', async () => {
    const envFile = path.join(dir.dir, 'test.env');
    fs.writeFileSync(
      envFile,
      [
        '# comment',
        'SEED_SHIPMENTS=120',
        `ERP_SHARED_SECRET=${TEST_SECRET}`,
        'HOST=127.0.0.1',
        'PORT=1'
      ].join('\n')
    );
    const started = start({
      ENV_FILE: envFile,
      PORT: '0',
      DATABASE_PATH: path.join(dir.dir, 'env-file.sqlite')
    });
    const match = await waitFor(
      () => /listening on http:\/\/localhost:(\d+)/.exec(started.output()),
      started.exited
    );
    expect(match[1]).not.toBe('1'); // PORT=0 from the environment wins over PORT=1 in the file
    expect(started.output()).toContain(`Loaded settings from ${envFile}`);
    expect(started.output()).toContain('120 shipments');
    expect(started.output()).not.toContain('WARNING: ERP_SHARED_SECRET');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('refuses bad configuration with a message naming the variable', async () => {
    const bad = start({ PORT: 'eighty', DATABASE_PATH: path.join(dir.dir, 'never.sqlite') });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('PORT must be a whole number');
    expect(fs.existsSync(path.join(dir.dir, 'never.sqlite'))).toBe(false);
  });
});
