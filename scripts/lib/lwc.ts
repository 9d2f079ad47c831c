/**
 * What an LWC bundle refers to, read from its files: module imports (with the local name each default import
 * binds and whether it is used in `@wire(…)`), child component tags in templates, and the platform's catalogue
 * of `lightning/*` modules and `<lightning-*>` components as @salesforce/sfdx-lwc-jest ships them as stubs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lineColumnAt, packageDir } from './project';

export interface LwcBundle {
  name: string;
  dir: string;
  /** `.js` and `.html` files of the bundle (tests excluded). */
  files: string[];
}

export interface LwcReference {
  file: string;
  line: number;
  column: number;
  /** A module specifier (`import … from 'x'`) or a child tag (`<c-foo>`). */
  kind: 'import' | 'tag';
  /** The specifier, or the tag name. */
  target: string;
  /** For a default import: the local name it binds. */
  local?: string;
  /** For an import: true when the local name is the adapter of a `@wire(…)`. */
  wired?: boolean;
}

/** Bundles: folders directly inside a folder named `lwc`, in the given files. */
export function lwcBundles(files: string[]): LwcBundle[] {
  const byDir = new Map<string, LwcBundle>();
  for (const file of files) {
    const dir = path.dirname(file);
    if (path.basename(path.dirname(dir)) !== 'lwc') continue;
    if (!/\.(js|html)$/.test(file)) continue;
    const bundle = byDir.get(dir) ?? { name: path.basename(dir), dir, files: [] };
    bundle.files.push(file);
    byDir.set(dir, bundle);
  }
  return [...byDir.values()];
}

/** Comments blanked to spaces (offsets kept), strings and template literals left alone. */
export function blankJsComments(source: string): string {
  const out = source.split('');
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let k = i + 1;
      while (k < source.length && source[k] !== c) k += source[k] === '\\' ? 2 : 1;
      i = k + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

const IMPORT =
  /\bimport\s+(?:(\w+)\s*(?:,\s*\{[^}]*\}|,\s*\*\s+as\s+\w+)?\s+from\s+|\{[^}]*\}\s+from\s+|\*\s+as\s+\w+\s+from\s+)?(['"])([^'"\n]+)\2|\bimport\s*\(\s*(['"])([^'"\n]+)\4\s*\)/g;

/** Imports of a component's JavaScript. */
export function jsReferences(file: string, source: string): LwcReference[] {
  const code = blankJsComments(source);
  const wiredNames = new Set([...code.matchAll(/@wire\s*\(\s*(\w+)/g)].map((m) => m[1]!));
  const refs: LwcReference[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const specifier = m[3] ?? m[5]!;
    const at = m.index + m[0].lastIndexOf(specifier);
    const local = m[1];
    refs.push({
      file,
      ...lineColumnAt(source, at),
      kind: 'import',
      target: specifier,
      ...(local ? { local, wired: wiredNames.has(local) } : {})
    });
  }
  return refs;
}

/** Custom element tags (`<c-foo-bar>`, `<lightning-card>`) of a template, comments ignored. */
export function templateReferences(file: string, source: string): LwcReference[] {
  const code = source.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '));
  const refs: LwcReference[] = [];
  for (const m of code.matchAll(/<([a-z][a-z0-9]*(?:-[a-z0-9_]+)+)(?=[\s/>])/g)) {
    refs.push({ file, ...lineColumnAt(source, m.index + 1), kind: 'tag', target: m[1]! });
  }
  return refs;
}

/** `c-foo-bar` → `fooBar` (the LWC naming rule: each hyphen-letter becomes an upper-case letter). */
export function tagToModuleName(tag: string): string {
  const rest = tag.slice(tag.indexOf('-') + 1);
  return rest.replace(/-([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

export interface LightningCatalogue {
  /** `lightning/<name>` modules (components and JavaScript-only modules). */
  modules: Set<string>;
  /** Names of modules that are components (have a template): usable as `<lightning-…>`. */
  components: Set<string>;
  source: string;
}

/**
 * Modules of the platform that the sfdx-lwc-jest 7.9 stubs do not ship, each documented in the Lightning
 * Component Library. Keep it short and cited; a name missing here makes the check fail, never pass.
 */
export const LIGHTNING_MODULE_SUPPLEMENTS: Record<string, string> = {
  // LightningModal base class: Component Library, "lightning-modal" (`import LightningModal from 'lightning/modal'`)
  modal: 'https://developer.salesforce.com/docs/component-library/bundle/lightning-modal'
};

let catalogue: LightningCatalogue | undefined;

export function lightningCatalogue(): LightningCatalogue {
  if (catalogue) return catalogue;
  const stubs = path.join(packageDir('@salesforce/sfdx-lwc-jest'), 'src', 'lightning-stubs');
  const modules = new Set<string>();
  const components = new Set<string>();
  for (const entry of fs.readdirSync(stubs, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    modules.add(entry.name);
    if (fs.existsSync(path.join(stubs, entry.name, `${entry.name}.html`)))
      components.add(entry.name);
  }
  if (modules.size < 50)
    throw new Error(`only ${modules.size} lightning stubs in ${stubs}: not the catalogue expected`);
  for (const name of Object.keys(LIGHTNING_MODULE_SUPPLEMENTS)) modules.add(name);
  catalogue = { modules, components, source: stubs };
  return catalogue;
}
