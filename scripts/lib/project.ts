/** Facts about an SFDX project on disk: package directories, file walking, offsets to line/column. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root of the gate itself (where node_modules and the tools live). */
export const GATE_ROOT = path.resolve(__dirname, '..', '..');

/** Directory of an installed package, found without `require.resolve` (some packages hide package.json). */
export function packageDir(name: string): string {
  let dir = GATE_ROOT;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`package ${name} is not installed (looked upward from ${GATE_ROOT})`);
    dir = parent;
  }
}

export function packageVersion(name: string): string {
  const json = JSON.parse(fs.readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as {
    version: string;
  };
  return json.version;
}

/** Absolute package directories listed in `sfdx-project.json`; throws with a clear message if unreadable. */
export function packageDirectories(root: string): string[] {
  const file = path.join(root, 'sfdx-project.json');
  let parsed: { packageDirectories?: { path?: string }[] };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof parsed;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const dirs = (parsed.packageDirectories ?? [])
    .map((entry) => entry.path)
    .filter((p): p is string => typeof p === 'string')
    .map((p) => path.resolve(root, p));
  if (dirs.length === 0) throw new Error(`${file} lists no packageDirectories`);
  return dirs;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.sf', '.sfdx', '.cache', 'coverage']);

/** Every file under `dir` (recursively) whose path matches `accept`, in a stable order. */
export function walkFiles(dir: string, accept: (file: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (current: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) visit(full);
      } else if (accept(full)) {
        out.push(full);
      }
    }
  };
  if (fs.existsSync(dir)) visit(dir);
  return out;
}

/** Every file of the project's package directories matching `accept`. */
export function packageFiles(root: string, accept: (file: string) => boolean): string[] {
  return packageDirectories(root).flatMap((dir) => walkFiles(dir, accept));
}

/** 1-based line and column of a character offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Reads a file as UTF-8, or returns an Error describing why it could not be read. */
export function readText(file: string): string | Error {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    return new Error(`cannot read file: ${(error as Error).message}`);
  }
}

/** `node <bin>` command for a package's CLI script, so checks never depend on PATH or npx. */
export function nodeBin(pkg: string, relativeBin: string): { command: string; args: string[] } {
  return { command: process.execPath, args: [path.join(packageDir(pkg), relativeBin)] };
}

/**
 * A cache file of a tool for the analysed project (or undefined: no cache), under the gate's own `.cache/gate/` (git-ignored and
 * outside every fixture project, so a cache never becomes a file the checks themselves would look at).
 */
export function toolCacheFile(tool: string, root: string, extension = 'cache'): string | undefined {
  // only the real project is cached: fixture runs are small, and the gate's tests may run them in parallel
  if (path.resolve(root) !== GATE_ROOT || process.env.GATE_NO_CACHE) return undefined;
  const hash = createHash('sha1').update(path.resolve(root)).digest('hex').slice(0, 10);
  const dir = path.join(GATE_ROOT, '.cache', 'gate');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${tool}-${hash}.${extension}`);
}
