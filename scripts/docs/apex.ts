/**
 * `npm run docs`: the Apex reference under `docs/apex/`, generated from the ApexDoc comments of every public
 * and global Apex class, trigger and custom object with `@cparra/apexdocs` (3.10.0: the last release that
 * needs no native download). The HTML entities the generator's templates produce for quotes, `=` and backticks
 * become the characters again; nothing else is changed, so a fresh run is cheap to compare. The pages are the
 * generator's Markdown, not ours: `.prettierignore` and `.markdownlint-cli2.jsonc` leave their style alone, while
 * the docs check still validates their links.
 *
 * The gate (`scripts/verify/docs.ts`) generates the same pages into a temporary directory and fails when
 * `docs/apex/` differs, so the committed reference never drifts from the ApexDoc it comes from.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { process as apexdocs } from '@cparra/apexdocs';
import { runProcess, tail } from '../lib/exec';
import { packageDir, packageDirectories, walkFiles } from '../lib/project';

/** Where the reference lives, relative to the project root. */
export const APEX_DOCS_DIR = path.join('docs', 'apex');

/** Entities the apexdocs templates escape; turning them back cannot create markup (no `<`, `>` or `&`). */
const ENTITIES: Record<string, string> = {
  '&#x27;': "'",
  '&quot;': '"',
  '&#x3D;': '=',
  '&#x60;': '`'
};

export function decodeEntities(markdown: string): string {
  return markdown.replace(/&#x27;|&quot;|&#x3D;|&#x60;/g, (entity) => ENTITIES[entity] ?? entity);
}

/**
 * Generates the reference for the project at `root` into `targetDir` (created, must be empty or absent).
 * Returns the generated pages keyed by their path relative to `targetDir`, after post-processing.
 * Throws with the tool's error when apexdocs fails. Runs apexdocs in this process, through its API, which takes
 * the classes not to read (its command line does not).
 */
export async function generateApexDocs(
  root: string,
  targetDir: string
): Promise<Map<string, string>> {
  const sourceDirs = packageDirectories(root);
  if (sourceDirs.length !== 1) {
    throw new Error(
      `apexdocs reads one source directory; sfdx-project.json lists ${sourceDirs.length}`
    );
  }
  const sourceDir = sourceDirs[0]!;
  try {
    await apexdocs({
      targetGenerator: 'markdown',
      sourceDir,
      targetDir,
      scope: ['global', 'public'],
      referenceGuideTitle: 'Apex reference',
      exclude: privateClasses(sourceDir).map((file) => `**/${path.basename(file)}`)
    });
  } catch (error) {
    // apexdocs throws its list of errors, not an Error
    throw new Error(
      `apexdocs failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`
    );
  }
  const pages = walkFiles(targetDir, (file) => file.endsWith('.md'));
  if (pages.length === 0)
    throw new Error(`apexdocs reported success but wrote no page to ${targetDir}`);
  const out = new Map<string, string>();
  for (const page of pages) {
    const text = decodeEntities(fs.readFileSync(page, 'utf8'));
    out.set(path.relative(targetDir, page).split(path.sep).join('/'), text);
  }
  return out;
}

/** Comments, blank space and annotations (with their arguments, strings included) at the start of a class file. */
const LEADING_TRIVIA =
  /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|@\w+(?:\s*\((?:'(?:[^'\\]|\\.)*'|[^)'])*\))?)*/;
/** A top-level class declared private, with or without a sharing keyword. */
const PRIVATE_CLASS = /^private\s+(?:(?:with|without|inherited)\s+sharing\s+)?class\s/i;

/**
 * The Apex class files under `dir` whose top-level class is declared `private` (only test classes may be): the
 * reference's scope (public, global) never gives them a page, and parsing them took 40 % of a generation's CPU
 * (apexdocs parses every class it reads, 14.7 s → 9.0 s for this project). A file whose start this cannot read is
 * kept, so a mistake costs time, never a page.
 */
export function privateClasses(dir: string): string[] {
  return walkFiles(dir, (file) => file.endsWith('.cls')).filter((file) => {
    const source = fs.readFileSync(file, 'utf8');
    const start = LEADING_TRIVIA.exec(source)?.[0].length ?? 0;
    return PRIVATE_CLASS.test(source.slice(start));
  });
}

/** The committed reference, keyed like {@link generateApexDocs}'s result. */
export function committedApexDocs(root: string): Map<string, string> {
  const dir = path.join(root, APEX_DOCS_DIR);
  const out = new Map<string, string>();
  for (const file of walkFiles(dir, (f) => f.endsWith('.md'))) {
    out.set(path.relative(dir, file).split(path.sep).join('/'), fs.readFileSync(file, 'utf8'));
  }
  return out;
}

/**
 * Generates into a fresh temporary directory and removes it afterwards. The generator runs as its own process
 * (this file's CLI with `--out`), so a crash of the tool comes back as an error instead of taking the caller down.
 */
export async function freshApexDocs(root: string): Promise<Map<string, string>> {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'apexdocs-'));
  try {
    const out = path.join(temp, 'out');
    const tsx = path.join(packageDir('tsx'), 'dist', 'cli.mjs');
    const run = await runProcess(
      process.execPath,
      [tsx, __filename, '--root', root, '--out', out],
      { cwd: root, timeoutMs: 180_000 }
    );
    if (run.error || run.code !== 0) {
      throw new Error(run.error ?? tail(run.stderr || run.stdout));
    }
    const pages = new Map<string, string>();
    for (const file of walkFiles(out, (f) => f.endsWith('.md'))) {
      pages.set(path.relative(out, file).split(path.sep).join('/'), fs.readFileSync(file, 'utf8'));
    }
    return pages;
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** Writes `pages` into `dir`, replacing whatever was there (pages of deleted classes go too). */
function writePages(dir: string, pages: Map<string, string>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [relative, content] of pages) {
    fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    fs.writeFileSync(path.join(dir, relative), content);
  }
}

function argValue(flag: string): string | undefined {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/**
 * `npm run docs` regenerates `docs/apex/`. `--root <dir>` reads another project; `--out <dir>` writes there
 * instead of the project's `docs/apex/` (the gate compares that with the committed pages).
 */
async function main(): Promise<void> {
  const root = path.resolve(argValue('--root') ?? path.join(__dirname, '..', '..'));
  const outFlag = argValue('--out');
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'apexdocs-'));
  try {
    const pages = await generateApexDocs(root, path.join(temp, 'raw'));
    if (outFlag) {
      writePages(path.resolve(outFlag), pages);
      return;
    }
    const before = committedApexDocs(root);
    writePages(path.join(root, APEX_DOCS_DIR), pages);
    const changed = [...pages].filter(
      ([relative, content]) => before.get(relative) !== content
    ).length;
    const removed = [...before.keys()].filter((relative) => !pages.has(relative)).length;
    console.log(
      `${APEX_DOCS_DIR}: ${pages.size} pages (${changed} new or changed, ${removed} removed)`
    );
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
