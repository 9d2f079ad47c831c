/**
 * docs: the project's Markdown, checked offline.
 *
 * - **markdownlint** (`markdownlint-cli2` with the gate's `.markdownlint-cli2.jsonc`, custom rule included): style,
 *   broken tables (wrong column counts, rows that do not render as a table), headings, bare URLs. Generated
 *   Markdown (`docs/apex/`, `bench/results/`) is not style-checked.
 * - **links** (`remark-cli` + `remark-validate-links`, no network): every relative link to a file and every
 *   heading anchor, in every Markdown file, generated ones included.
 * - **pattern pages**: each `docs/patterns/<id>.md` has exactly the sections `docs/adding-a-pattern.md` lists,
 *   in its order, and a Mermaid sequence diagram.
 * - **Apex reference**: when the project has `docs/apex/`, it must be what `npm run docs` generates now.
 * - **README size**: at most 15 KB, so it stays the entry point it is meant to be.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { committedApexDocs, APEX_DOCS_DIR, freshApexDocs } from '../docs/apex';
import { runProcess, stripAnsi, tail } from '../lib/exec';
import { runCli, timed, toolError, type CheckResult, type Finding } from '../lib/findings';
import {
  GATE_ROOT,
  nodeBin,
  packageDir,
  packageDirectories,
  packageVersion,
  toolCacheFile,
  walkFiles
} from '../lib/project';

/** The rules every project is linted with (a fixture project too). */
export const MARKDOWNLINT_CONFIG = path.join(GATE_ROOT, '.markdownlint-cli2.jsonc');
const REPORTER = path.join(__dirname, 'remark-json-reporter.mjs');

/** Folders never read: dependencies, caches and the gate's own broken-on-purpose fixtures. */
const SKIP = [
  'node_modules',
  '.git',
  '.cache',
  'coverage',
  path.join('scripts', 'test', 'fixtures')
];
/** Generated Markdown: links are checked, style is the generator's. */
const GENERATED = [APEX_DOCS_DIR, path.join('bench', 'results')];

const under = (relative: string, dirs: string[]): boolean =>
  dirs.some((dir) => relative === dir || relative.startsWith(dir + path.sep));

/** Every Markdown file of the project, as paths relative to the root, in a stable order. */
export function markdownFiles(root: string): string[] {
  return walkFiles(root, (file) => file.endsWith('.md'))
    .map((file) => path.relative(root, file))
    .filter((relative) => !under(relative, SKIP));
}

/** `file:line[:column] [error] MDxxx/alias description [detail]` lines of markdownlint-cli2's default output. */
export function parseMarkdownlintOutput(root: string, output: string): Finding[] {
  const findings: Finding[] = [];
  for (const line of stripAnsi(output).split('\n')) {
    const match = /^(.+?):(\d+)(?::(\d+))? (?:error |warning )?(\S+) (.*)$/.exec(line.trim());
    if (!match || !/^(MD\d+\/|[a-z][\w-]*$|[a-z][\w-]*\/)/.test(match[4]!)) continue;
    const file = path.resolve(root, match[1]!);
    if (!fs.existsSync(file)) continue;
    findings.push({
      file,
      line: Number(match[2]),
      ...(match[3] ? { column: Number(match[3]) } : {}),
      rule: `markdownlint/${match[4]!}`,
      message: match[5]!
    });
  }
  return findings;
}

async function markdownlint(root: string, files: string[]): Promise<Finding[]> {
  if (files.length === 0) return [];
  const { command, args } = nodeBin('markdownlint-cli2', 'markdownlint-cli2-bin.mjs');
  // `:` marks a literal path; --no-globs ignores the config's own file list, so exactly these files are read
  const run = await runProcess(
    command,
    [...args, '--config', MARKDOWNLINT_CONFIG, '--no-globs', ...files.map((f) => `:${f}`)],
    { cwd: root, timeoutMs: 120_000 }
  );
  if (run.error) return [toolError(root, 'markdownlint', run.error)];
  // exit 0: clean, 1: problems found, 2: configuration error or crash
  if (run.code !== 0 && run.code !== 1) {
    return [
      toolError(
        root,
        'markdownlint',
        `exited with ${run.code ?? run.signal}: ${tail(run.stderr || run.stdout)}`
      )
    ];
  }
  const findings = parseMarkdownlintOutput(root, `${run.stdout}\n${run.stderr}`);
  if (run.code === 1 && findings.length === 0) {
    findings.push(
      toolError(
        root,
        'markdownlint',
        `exit 1 but no problem could be read: ${tail(run.stderr || run.stdout)}`
      )
    );
  }
  return findings;
}

interface RemarkFile {
  path: string;
  messages: {
    line?: number;
    column?: number;
    reason: string;
    ruleId?: string;
    source?: string;
    fatal?: boolean;
  }[];
}

/** The JSON our reporter prints; a fatal message (the file could not be processed) is a tool error. */
export function parseRemarkJson(root: string, output: string): Finding[] {
  let files: RemarkFile[];
  try {
    files = JSON.parse(output) as RemarkFile[];
  } catch {
    throw new Error(`remark printed output that is not JSON: ${tail(output, 5)}`);
  }
  if (!Array.isArray(files)) throw new Error('remark JSON output is not an array');
  return files.flatMap((file) =>
    file.messages.map((m) =>
      m.fatal || !m.ruleId
        ? toolError(root, 'remark', `${file.path}: ${m.reason}`)
        : {
            file: path.resolve(root, file.path),
            line: m.line ?? 0,
            ...(m.column !== undefined ? { column: m.column } : {}),
            rule: `links/${m.ruleId}`,
            message: m.reason
          }
    )
  );
}

async function links(root: string, files: string[]): Promise<Finding[]> {
  if (files.length === 0) return [];
  const { command, args } = nodeBin('remark-cli', 'cli.js');
  const run = await runProcess(
    command,
    [
      ...args,
      '--no-config', // the gate's settings, whatever .remarkrc the project has
      '--no-ignore',
      '--no-stdout',
      '--no-color',
      // repository:false: relative links only (no git remote needed); nothing is fetched
      '--use',
      // by path, so a project without its own node_modules (a fixture, a temp dir) finds it too
      `${path.join(packageDir('remark-validate-links'), 'index.js')}=repository:false`,
      '--report',
      REPORTER,
      ...files
    ],
    { cwd: root, timeoutMs: 120_000 }
  );
  if (run.error) return [toolError(root, 'remark', run.error)];
  if (run.code !== 0 && run.code !== 1) {
    return [
      toolError(
        root,
        'remark',
        `exited with ${run.code ?? run.signal}: ${tail(run.stderr || run.stdout)}`
      )
    ];
  }
  // the reporter's JSON is the last line remark writes to stderr
  const json = run.stderr.trim().split('\n').pop() ?? '';
  return parseRemarkJson(root, json);
}

/** The bold items of the numbered list under `## Docs…` in docs/adding-a-pattern.md: the required sections. */
export function requiredSections(addingAPattern: string): string[] {
  const section = /^## Docs\b[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(addingAPattern);
  if (!section) return [];
  return [...section[1]!.matchAll(/^\d+\. \*\*(.+?)\*\*/gm)].map((m) => m[1]!);
}

/** Level-2 headings outside code fences, with their lines. */
export function sectionHeadings(markdown: string): { title: string; line: number }[] {
  const out: { title: string; line: number }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker) {
      if (!fence) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    const heading = !fence && /^## (.+?)\s*#*\s*$/.exec(text);
    if (heading) out.push({ title: heading[1]!, line: index + 1 });
  });
  return out;
}

function patternPages(root: string): Finding[] {
  const guide = path.join(root, 'docs', 'adding-a-pattern.md');
  if (!fs.existsSync(guide)) return [];
  const required = requiredSections(fs.readFileSync(guide, 'utf8'));
  if (required.length === 0) {
    return [
      {
        file: guide,
        line: 0,
        rule: 'docs/pattern-sections',
        message:
          'no "## Docs" section with a numbered list of **bold** section titles: the pattern pages cannot be checked'
      }
    ];
  }
  const findings: Finding[] = [];
  for (const file of walkFiles(path.join(root, 'docs', 'patterns'), (f) => f.endsWith('.md'))) {
    const text = fs.readFileSync(file, 'utf8');
    const headings = sectionHeadings(text);
    const titles = headings.map((h) => h.title);
    required.forEach((title, index) => {
      if (titles[index] === title) return;
      const at = headings[index];
      findings.push({
        file,
        line: at?.line ?? 0,
        rule: 'docs/pattern-sections',
        message: `section ${index + 1} must be "## ${title}" (docs/adding-a-pattern.md), found ${at ? `"## ${at.title}"` : 'nothing'}`
      });
    });
    if (!/^```mermaid\s*\n\s*sequenceDiagram\b/m.test(text)) {
      findings.push({
        file,
        line: headings.find((h) => h.title === 'The flow')?.line ?? 0,
        rule: 'docs/pattern-flow',
        message:
          'no Mermaid sequence diagram (a ```mermaid block starting with sequenceDiagram) shows the flow'
      });
    }
    for (const extra of headings.slice(required.length)) {
      findings.push({
        file,
        line: extra.line,
        rule: 'docs/pattern-sections',
        message: `"## ${extra.title}" is not one of the sections docs/adding-a-pattern.md lists: make it a ### under one of them`
      });
    }
  }
  return findings;
}

/** The README stays an entry point; the rest lives in docs/ (issue 8: at most 15 KB). */
export const README_MAX_BYTES = 15 * 1024;

function readmeSize(root: string): Finding[] {
  const file = path.join(root, 'README.md');
  if (!fs.existsSync(file)) return [];
  const size = fs.statSync(file).size;
  return size <= README_MAX_BYTES
    ? []
    : [
        {
          file,
          line: 0,
          rule: 'docs/readme-size',
          message: `${size} bytes, more than ${README_MAX_BYTES}: move the detail to a page under docs/ and link it`
        }
      ];
}

/** First line (1-based) where two texts differ. */
function firstDifference(a: string, b: string): number {
  const left = a.split('\n');
  const right = b.split('\n');
  for (let i = 0; i < Math.max(left.length, right.length); i++)
    if (left[i] !== right[i]) return i + 1;
  return 0;
}

/**
 * What apexdocs reads (Apex, triggers, metadata XML of the package directories, `.forceignore`), the
 * generator's version and our post-processing, hashed: the same inputs always give the same pages.
 */
export function apexDocsInputHash(root: string): string {
  const hash = createHash('sha256');
  hash.update(`apexdocs ${packageVersion('@cparra/apexdocs')}\n`);
  hash.update(fs.readFileSync(path.join(__dirname, '..', 'docs', 'apex.ts')));
  const inputs = [
    path.join(root, '.forceignore'),
    ...packageDirectories(root).flatMap((dir) =>
      walkFiles(dir, (file) => /\.(cls|trigger|xml)$/.test(file))
    )
  ].filter((file) => fs.existsSync(file));
  for (const file of inputs) {
    hash.update(`\0${path.relative(root, file)}\0`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

/**
 * A fresh generation, reused from `.cache/gate/` while its inputs are unchanged (apexdocs takes a few seconds of
 * CPU per run; only the real project is cached, as for the other checks' caches).
 */
async function cachedFreshApexDocs(root: string, notes: string[]): Promise<Map<string, string>> {
  const file = toolCacheFile('apexdocs', root, 'json');
  const key = file ? apexDocsInputHash(root) : undefined;
  if (file && fs.existsSync(file)) {
    try {
      const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        key: string;
        pages: [string, string][];
      };
      if (cached.key === key) {
        notes.push(
          'Apex reference: inputs unchanged since the last run, fresh pages taken from the cache'
        );
        return new Map(cached.pages);
      }
    } catch {
      // an unreadable cache is regenerated
    }
  }
  const pages = await freshApexDocs(root);
  if (file) fs.writeFileSync(file, JSON.stringify({ key, pages: [...pages] }));
  return pages;
}

async function apexReference(root: string, notes: string[]): Promise<Finding[]> {
  const dir = path.join(root, APEX_DOCS_DIR);
  if (!fs.existsSync(dir)) return [];
  let fresh: Map<string, string>;
  try {
    fresh = await cachedFreshApexDocs(root, notes);
  } catch (error) {
    return [toolError(root, 'apexdocs', (error as Error).message)];
  }
  const committed = committedApexDocs(root);
  const findings: Finding[] = [];
  const stale = (relative: string, line: number, message: string): void => {
    findings.push({ file: path.join(dir, relative), line, rule: 'docs/apex-stale', message });
  };
  for (const [relative, content] of fresh) {
    const current = committed.get(relative);
    if (current === undefined)
      stale(relative, 0, 'missing: run `npm run docs` and commit docs/apex/');
    else if (current !== content) {
      stale(
        relative,
        firstDifference(current, content),
        'differs from what `npm run docs` generates from the ApexDoc now (first difference here): run `npm run docs`'
      );
    }
  }
  for (const relative of committed.keys()) {
    if (!fresh.has(relative))
      stale(relative, 0, 'no Apex source generates this page any more: run `npm run docs`');
  }
  notes.push(
    `${fresh.size} Apex reference pages compared with what apexdocs generates from the current sources`
  );
  return findings;
}

export function checkDocs(root: string): Promise<CheckResult> {
  return timed('docs', root, async (notes) => {
    const files = markdownFiles(root);
    const styled = files.filter((relative) => !under(relative, GENERATED));
    notes.push(`${files.length} Markdown files (${styled.length} style-checked)`);
    const results = await Promise.all([
      markdownlint(root, styled),
      links(root, files),
      Promise.resolve([...patternPages(root), ...readmeSize(root)]),
      apexReference(root, notes)
    ]);
    return { findings: results.flat() };
  });
}

if (require.main === module) runCli(checkDocs);
