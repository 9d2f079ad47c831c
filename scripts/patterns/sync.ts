/**
 * `npm run patterns:sync`: regenerates what lists the patterns from `config/patterns.json`:
 *
 * - `force-app/main/core/lwc/integrationPatternsHome/patterns.js`, the app home page's data;
 * - the pattern table of `README.md`, between the `patterns:start` / `patterns:end` comments.
 *
 * Output goes through Prettier with the project's settings, so a generated file is also a formatted one.
 * `--check` writes nothing and exits 1 when a file differs from what it would write; `--root <dir>` points it
 * at another copy of the project (the tests use that).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadManifest, type PatternEntry, type PatternManifest } from './manifest';

export const HOME_DATA_PATH = path.join(
  'force-app',
  'main',
  'core',
  'lwc',
  'integrationPatternsHome',
  'patterns.js'
);
export const README_PATH = 'README.md';
export const TABLE_START =
  '<!-- patterns:start (generated from config/patterns.json by npm run patterns:sync) -->';
export const TABLE_END = '<!-- patterns:end -->';

/** The relative docs link of a pattern, from the repository root. */
export function docsPath(pattern: PatternEntry): string {
  return `docs/patterns/${pattern.id}.md`;
}

/** The home page's data module: the same entries, under the names the LWC has always used. */
export function renderHomeData(manifest: PatternManifest): string {
  const entries = manifest.patterns.map((p) => ({
    id: p.id,
    name: p.name,
    businessStep: p.businessStep,
    whenToUse: p.whenToUse,
    salesforceSide: p.salesforceHalf,
    remoteSide: p.remoteHalf,
    status: p.status
  }));
  return [
    '/**',
    ' * The integration patterns of this kit, as the app home page and its advisor show them.',
    ' *',
    ' * GENERATED from config/patterns.json by `npm run patterns:sync`: edit the manifest, not this file.',
    ' * A pattern is `available` when both halves, its docs and its tests are in the kit; `planned` ones are',
    ' * listed so the page shows the whole catalogue, marked as not built yet.',
    ' */',
    '',
    '/** Implementation status of a pattern in this kit. */',
    "export const STATUS = Object.freeze({ AVAILABLE: 'available', PLANNED: 'planned' });",
    '',
    '/** Text shown for each status. */',
    'export const STATUS_LABELS = Object.freeze({',
    "  [STATUS.AVAILABLE]: 'In this kit',",
    "  [STATUS.PLANNED]: 'Planned'",
    '});',
    '',
    // statuses as STATUS constants, so the LWC's type-checked tests see the literal types
    `export const PATTERNS = Object.freeze(${JSON.stringify(entries, null, 2).replace(
      /"status": "(available|planned)"/g,
      (_match, status: string) => `"status": STATUS.${status.toUpperCase()}`
    )});`,
    ''
  ].join('\n');
}

/** The README's pattern table; built patterns link to their docs page. */
export function renderReadmeTable(manifest: PatternManifest): string {
  const rows = manifest.patterns.map((p) => {
    const name = p.status === 'available' ? `[${p.name}](${docsPath(p)})` : p.name;
    return `| ${name} | ${p.businessStep} | ${p.salesforceHalf} | ${p.remoteHalf} | ${p.status} |`;
  });
  return [
    '| pattern | business step | Salesforce half | remote half | status |',
    '| --- | --- | --- | --- | --- |',
    ...rows
  ].join('\n');
}

/** Replaces what is between the markers (which must each appear once) with `table`. */
export function replaceTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < 0 || end < start || readme.indexOf(TABLE_START, start + 1) >= 0) {
    throw new Error(
      `${README_PATH} must contain the line "${TABLE_START}" once, followed by "${TABLE_END}"`
    );
  }
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}

async function format(root: string, relative: string, text: string): Promise<string> {
  // loaded here, not at the top: Prettier's CommonJS entry imports its ESM core, which Jest cannot load
  const prettier = await import('prettier');
  const file = path.join(root, relative);
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

/** What each generated file must contain, keyed by its path relative to `root`. */
export async function expectedFiles(root: string): Promise<Map<string, string>> {
  const manifest = loadManifest(root);
  const readme = fs.readFileSync(path.join(root, README_PATH), 'utf8');
  return new Map([
    [HOME_DATA_PATH, await format(root, HOME_DATA_PATH, renderHomeData(manifest))],
    [
      README_PATH,
      await format(root, README_PATH, replaceTable(readme, renderReadmeTable(manifest)))
    ]
  ]);
}

/** The generated files whose content on disk differs from what `npm run patterns:sync` would write. */
export async function staleFiles(root: string): Promise<string[]> {
  const stale: string[] = [];
  for (const [relative, content] of await expectedFiles(root)) {
    const file = path.join(root, relative);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current !== content) stale.push(relative);
  }
  return stale;
}

async function main(): Promise<void> {
  const rootFlag = process.argv.indexOf('--root');
  const root = path.resolve(
    rootFlag >= 0 ? (process.argv[rootFlag + 1] ?? '.') : path.join(__dirname, '..', '..')
  );
  const check = process.argv.includes('--check');
  if (check) {
    const stale = await staleFiles(root);
    for (const file of stale) console.log(`${file}: stale, run \`npm run patterns:sync\``);
    process.exitCode = stale.length === 0 ? 0 : 1;
    return;
  }
  for (const [relative, content] of await expectedFiles(root)) {
    const file = path.join(root, relative);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) {
      console.log(`${relative}: up to date`);
    } else {
      fs.writeFileSync(file, content);
      console.log(`${relative}: written`);
    }
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
