/**
 * The pattern list is one: `config/patterns.json`. These tests fail when the folders, the docs, the remote
 * system's mounted modules or the generated lists (home page data, README table) disagree with it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  PATTERN_IDS,
  availablePatterns,
  loadManifest,
  parseManifest,
  type PatternEntry
} from './manifest';
import type * as ConfigModule from '../../remote-system/src/config';
import type * as PatternsModule from '../../remote-system/src/patterns';
import { runProcess } from '../lib/exec';
import { packageDir } from '../lib/project';
import {
  HOME_DATA_PATH,
  README_PATH,
  renderReadmeTable,
  replaceTable,
  TABLE_END,
  TABLE_START
} from './sync';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = loadManifest(ROOT);

const salesforceHalf = (id: string): string => path.join(ROOT, 'force-app', 'main', id);
const remoteHalf = (id: string): string => path.join(ROOT, 'remote-system', 'src', id);
const docsPage = (id: string): string => path.join(ROOT, 'docs', 'patterns', `${id}.md`);

/**
 * What makes a half "built" rather than a folder someone has just started: Apex classes on the Salesforce
 * side, an `index.ts` entry point on the remote side. A planned pattern may have a folder in progress; it may
 * not have these, because then it deploys or could be mounted while the kit calls it planned.
 */
function builtParts(id: string): string[] {
  const parts: string[] = [];
  const classes = path.join(salesforceHalf(id), 'classes');
  if (fs.existsSync(classes) && fs.readdirSync(classes).some((f) => f.endsWith('.cls'))) {
    parts.push(path.relative(ROOT, classes));
  }
  const entry = path.join(remoteHalf(id), 'index.ts');
  if (fs.existsSync(entry)) parts.push(path.relative(ROOT, entry));
  return parts;
}

const byStatus = (status: PatternEntry['status']): [string, PatternEntry][] =>
  manifest.patterns.filter((p) => p.status === status).map((p) => [p.id, p]);

describe('config/patterns.json', () => {
  it('lists every pattern of the kit once, in the order of the seeds', () => {
    expect(manifest.patterns.map((p) => p.id)).toEqual([...PATTERN_IDS]);
  });

  it('rejects an unknown status, a missing pattern, an empty text and an unknown field, all at once', () => {
    const broken = {
      patterns: [
        ...manifest.patterns.slice(1, -1),
        { ...manifest.patterns.at(-1), status: 'built', name: ' ', extra: true }
      ]
    };
    const attempt = (): unknown => parseManifest(JSON.stringify(broken), 'patterns.json');
    expect(attempt).toThrow(/status must be "available" or "planned", got "built"/);
    expect(attempt).toThrow(/name must be a non-empty string/);
    expect(attempt).toThrow(/unknown field "extra"/);
    expect(attempt).toThrow(/pattern "remote-call-in" is missing/);
  });
});

describe.each(byStatus('available'))('available pattern %s', (id) => {
  it('has its Salesforce half in force-app/main/<id>/', () => {
    expect(fs.existsSync(salesforceHalf(id))).toBe(true);
  });

  it('has its remote half in remote-system/src/<id>/ with an index.ts', () => {
    expect(fs.existsSync(path.join(remoteHalf(id), 'index.ts'))).toBe(true);
  });

  it('has its docs page docs/patterns/<id>.md', () => {
    expect(fs.existsSync(docsPage(id))).toBe(true);
  });
});

describe('planned patterns', () => {
  // one test over the whole list (which may be empty): describe.each refuses an empty table
  it('have no built half (Apex classes or a remote index.ts): mark one available when it is done', () => {
    const built = byStatus('planned')
      .map(([id]) => ({ id, parts: builtParts(id) }))
      .filter((pattern) => pattern.parts.length > 0);
    expect(built).toEqual([]);
  });
});

describe('remote-system/src/patterns.ts', () => {
  it('mounts exactly the available patterns, by the same ids', () => {
    // imported here, so a pattern module that does not load fails this test, not every test of the file
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { loadConfig } = require('../../remote-system/src/config') as typeof ConfigModule;
    const { patternModules } = require('../../remote-system/src/patterns') as typeof PatternsModule;
    /* eslint-enable @typescript-eslint/no-require-imports */
    // a test configuration: no .env, a throw-away database; building modules must not need more
    const config = loadConfig({
      ERP_SHARED_SECRET: 'patterns-test-secret-0123456789',
      DATABASE_PATH: ':memory:',
      LOG_LEVEL: 'silent'
    });
    const mounted = patternModules(config)
      .map((module) => module.name)
      .sort();
    expect(mounted).toEqual(
      availablePatterns(manifest)
        .map((p) => p.id)
        .sort()
    );
  });
});

describe('generated lists', () => {
  // Prettier formats the generated files and is ESM inside, which Jest's CommonJS runtime cannot load: the
  // sync runs as its own process, as `npm run patterns:sync -- --check` would.
  const syncCheck = (root: string): ReturnType<typeof runProcess> =>
    runProcess(
      process.execPath,
      [
        path.join(packageDir('tsx'), 'dist', 'cli.mjs'),
        path.join(__dirname, 'sync.ts'),
        '--check',
        '--root',
        root
      ],
      { cwd: ROOT, timeoutMs: 60_000 }
    );

  it('the home page data and the README table are what npm run patterns:sync writes', async () => {
    const run = await syncCheck(ROOT);
    expect(run.stdout + run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('says which generated files are stale when the manifest changes', async () => {
    // inside the repository, so Prettier finds its plugins in node_modules; .cache/ is ignored by git
    fs.mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
    const copy = fs.mkdtempSync(path.join(ROOT, '.cache', 'patterns-test-'));
    try {
      for (const file of [README_PATH, HOME_DATA_PATH, '.prettierrc', 'config/patterns.json']) {
        fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, file), path.join(copy, file));
      }
      const edited = fs
        .readFileSync(path.join(copy, 'config/patterns.json'), 'utf8')
        .replace('"status": "available"', '"status": "planned"');
      expect(edited).not.toBe(fs.readFileSync(path.join(ROOT, 'config/patterns.json'), 'utf8'));
      fs.writeFileSync(path.join(copy, 'config/patterns.json'), edited);
      const run = await syncCheck(copy);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`${HOME_DATA_PATH}: stale`);
      expect(run.stdout).toContain(`${README_PATH}: stale`);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('links each available pattern in the README table to its docs page, and no planned one', () => {
    const table = renderReadmeTable(manifest);
    for (const pattern of manifest.patterns) {
      const link = `(docs/patterns/${pattern.id}.md)`;
      expect(table.includes(link)).toBe(pattern.status === 'available');
    }
  });

  it('refuses a README without the table markers instead of appending a table', () => {
    expect(() => replaceTable('# Title\n', 'x')).toThrow(TABLE_START);
    expect(replaceTable(`a\n${TABLE_START}\nold\n${TABLE_END}\nb`, 'new')).toBe(
      `a\n${TABLE_START}\n\nnew\n\n${TABLE_END}\nb`
    );
  });
});
