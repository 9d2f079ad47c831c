/**
 * isolation: "copy one pattern plus `core` into your own org" holds. For every folder
 * `force-app/main/<pattern>/`, each reference its files make must resolve inside `core` + that folder (or to the
 * platform); `core` must resolve inside `core` alone; `demo/` may use everything and nothing may use `demo/`.
 *
 * References, by file kind:
 * - Apex (`.cls`, `.trigger`), read with the apex-parser lexer: custom objects and fields (`X__c`, `X__r`, `X__x`,
 *   `X__e`, `X__mdt`, `X__ChangeEvent`), project classes (an identifier spelled exactly like the class, not after a
 *   `.`), Named Credentials in `'callout:Name/…'` strings;
 * - LWC: `@salesforce/apex/Class.method`, `@salesforce/schema/Object.Field`, `c/x` imports and `<c-x>` tags,
 *   `@salesforce/resourceUrl/X`, `@salesforce/messageChannel/X__c`;
 * - metadata XML: every element whose whole value names a component of the project (Apex class, custom object or
 *   `Object.Field`, LWC bundle, Named or External Credential, External Data Source, FlexiPage, tab, permission
 *   set, static resource…), `c:bundle`, or `callout:Name`. Free-text elements (labels, descriptions, picklist
 *   value names) are not references.
 * A name the project does not define at all is not this check's business (the other checks report it).
 */
import * as path from 'node:path';
import { ApexLexer, ApexParserFactory } from '@apexdevtools/apex-parser';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import { jsReferences, lwcBundles, templateReferences } from '../lib/lwc';
import { lineColumnAt, packageDirectories, readText, walkFiles } from '../lib/project';
import { isCustomObjectName } from '../lib/schema';
import { readXml, type XmlElement } from '../lib/xml';

/** Folder of a package's `main/` folder that every pattern builds on, and the one that may use everything. */
export const CORE = 'core';
export const DEMO = 'demo';

/** Metadata folders whose files (or sub-folders) define a component by name. */
const COMPONENT_FOLDERS: Record<string, string> = {
  classes: 'Apex class',
  triggers: 'Apex trigger',
  lwc: 'LWC bundle',
  aura: 'Aura bundle',
  namedCredentials: 'Named Credential',
  externalCredentials: 'External Credential',
  dataSources: 'External Data Source',
  flexipages: 'FlexiPage',
  permissionsets: 'permission set',
  tabs: 'tab',
  staticresources: 'static resource',
  messageChannels: 'message channel',
  customPermissions: 'custom permission',
  applications: 'app',
  externalServiceRegistrations: 'External Service',
  objects: 'custom object'
};

/** Elements whose text is prose or a value, never a reference. */
const FREE_TEXT = new Set([
  'label',
  'description',
  'masterLabel',
  'pluralLabel',
  'inlineHelpText',
  'relationshipLabel',
  'fullName',
  'formula',
  'errorMessage',
  'displayFormat',
  'startsWith',
  'apiVersion',
  'help'
]);

interface Definition {
  kind: string;
  owner: string;
}

class Index {
  /** `kind-less` lower-case name → definitions (a name may be defined by several folders). */
  readonly names = new Map<string, Definition[]>();
  /** Lower-case field name (`status__c`) → owners, and `object.field` → owners. */
  readonly fields = new Map<string, Set<string>>();

  define(name: string, kind: string, owner: string): void {
    const key = name.toLowerCase();
    const list = this.names.get(key) ?? [];
    if (!list.some((d) => d.kind === kind && d.owner === owner)) list.push({ kind, owner });
    this.names.set(key, list);
  }

  defineField(object: string, field: string, owner: string): void {
    for (const key of [field.toLowerCase(), `${object}.${field}`.toLowerCase()]) {
      const owners = this.fields.get(key) ?? new Set<string>();
      owners.add(owner);
      this.fields.set(key, owners);
    }
  }
}

/** The `main` folders (with a `core` folder) of the project's package directories. */
export function patternRoots(root: string): string[] {
  return packageDirectories(root)
    .map((dir) => path.join(dir, 'main'))
    .filter((main) => walkFiles(path.join(main, CORE), () => true).length > 0);
}

function ownerOf(main: string, file: string): string {
  return path.relative(main, file).split(path.sep)[0]!;
}

function buildIndex(main: string, files: string[]): Index {
  const index = new Index();
  for (const file of files) {
    const owner = ownerOf(main, file);
    const parts = path.relative(path.join(main, owner), file).split(path.sep);
    const folderAt = parts.findIndex((p) => p in COMPONENT_FOLDERS);
    if (folderAt < 0) continue;
    const folder = parts[folderAt]!;
    const next = parts[folderAt + 1];
    if (!next) continue;
    if (folder === 'objects') {
      if (isCustomObjectName(next)) index.define(next, 'custom object', owner);
      if (parts[folderAt + 2] === 'fields' && parts[folderAt + 3]) {
        const field = parts[folderAt + 3]!.replace(/\.field-meta\.xml$/, '');
        if (/__c$/i.test(field)) index.defineField(next, field, owner);
      }
      continue;
    }
    const isBundle = folder === 'lwc' || folder === 'aura';
    const name = isBundle
      ? next
      : next.replace(/\.[^.]+-meta\.xml$/, '').replace(/\.(cls|trigger)$/, '');
    if (!isBundle && parts.length !== folderAt + 2) continue;
    if (/\.(json|js|html|css|png|zip)$/.test(name)) continue; // static resource bodies and bundle files
    index.define(name, COMPONENT_FOLDERS[folder]!, owner);
  }
  return index;
}

interface Reference {
  file: string;
  line: number;
  column: number;
  /** What the reference names, as written. */
  name: string;
  /** Restrict the lookup to these kinds (undefined: any kind). */
  kinds?: string[];
  /** A custom field name (`Status__c`) or `Object.Field`. */
  field?: boolean;
}

function apexReferences(file: string, source: string, classNames: Set<string>): Reference[] {
  const refs: Reference[] = [];
  const tokens = ApexParserFactory.createLexer(source)
    .getAllTokens()
    .filter((t) => t.channel === 0);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const at = lineColumnAt(source, token.start);
    if (token.type === ApexLexer.StringLiteral) {
      const m = /^'callout:(\w+)/.exec(token.text);
      if (m) refs.push({ file, ...at, name: m[1]!, kinds: ['Named Credential'] });
      continue;
    }
    if (token.type !== ApexLexer.Identifier) continue;
    const text = token.text;
    const changeEvent = /^(\w+)__ChangeEvent$/i.exec(text);
    if (changeEvent) {
      refs.push({ file, ...at, name: `${changeEvent[1]}__c`, kinds: ['custom object'] });
    } else if (/__(c|r|x|e|mdt)$/i.test(text) && text.split('__').length === 2) {
      refs.push({ file, ...at, name: text, field: true });
    } else if (classNames.has(text) && tokens[i - 1]?.type !== ApexLexer.DOT) {
      refs.push({ file, ...at, name: text, kinds: ['Apex class'] });
    }
  }
  return refs;
}

function lwcReferences(file: string, source: string): Reference[] {
  const refs: Reference[] = [];
  const found = file.endsWith('.html')
    ? templateReferences(file, source)
    : jsReferences(file, source);
  for (const ref of found) {
    const at = { file, line: ref.line, column: ref.column };
    if (ref.kind === 'tag') {
      if (ref.target.startsWith('c-')) {
        const name = ref.target
          .slice(2)
          .replace(/-([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
        refs.push({ ...at, name, kinds: ['LWC bundle'] });
      }
      continue;
    }
    const target = ref.target;
    let m: RegExpExecArray | null;
    if ((m = /^c\/(\w+)$/.exec(target))) refs.push({ ...at, name: m[1]!, kinds: ['LWC bundle'] });
    else if ((m = /^@salesforce\/apex(?:Continuation)?\/(\w+)\.\w+$/.exec(target)))
      refs.push({ ...at, name: m[1]!, kinds: ['Apex class'] });
    else if ((m = /^@salesforce\/schema\/(\w+)(?:\.(\w+))?/.exec(target))) {
      refs.push({ ...at, name: m[1]!, field: true });
      if (m[2]) refs.push({ ...at, name: `${m[1]}.${m[2]}`, field: true });
    } else if ((m = /^@salesforce\/resourceUrl\/(\w+)$/.exec(target)))
      refs.push({ ...at, name: m[1]!, kinds: ['static resource'] });
    else if ((m = /^@salesforce\/messageChannel\/(\w+)$/.exec(target)))
      refs.push({ ...at, name: m[1]!, kinds: ['message channel'] });
  }
  return refs;
}

function xmlReferences(file: string, tree: XmlElement, self: string): Reference[] {
  const refs: Reference[] = [];
  const visit = (element: XmlElement): void => {
    if (element.children.length > 0) {
      element.children.forEach(visit);
      return;
    }
    if (FREE_TEXT.has(element.name)) return;
    const value = element.text.trim();
    if (!value || value.length > 200 || /\s/.test(value)) return;
    const at = { file, line: element.line, column: element.column };
    let m: RegExpExecArray | null;
    if ((m = /^callout:(\w+)/.exec(value)))
      refs.push({ ...at, name: m[1]!, kinds: ['Named Credential'] });
    else if ((m = /^c:(\w+)$/.exec(value)))
      refs.push({ ...at, name: m[1]!, kinds: ['LWC bundle', 'Aura bundle'] });
    else if ((m = /^(\w+)\.(\w+__c)$/.exec(value))) {
      refs.push({ ...at, name: m[1]!, field: true });
      refs.push({ ...at, name: value, field: true });
    } else if (/^\w+$/.test(value) && value.toLowerCase() !== self.toLowerCase()) {
      refs.push({ ...at, name: value, field: /__(c|r|x|e|mdt)$/i.test(value) });
    }
  };
  visit(tree);
  return refs;
}

function resolveOwners(
  ref: Reference,
  index: Index
): { owners: Set<string>; kind: string } | undefined {
  const name = ref.name.toLowerCase();
  if (ref.field) {
    const objectDefs = (index.names.get(name) ?? []).filter((d) => d.kind === 'custom object');
    if (objectDefs.length > 0)
      return { owners: new Set(objectDefs.map((d) => d.owner)), kind: 'custom object' };
    const fieldName = name.replace(/__r$/, '__c');
    const fieldOwners = index.fields.get(fieldName);
    if (fieldOwners) return { owners: fieldOwners, kind: 'custom field' };
    return undefined;
  }
  const defs = (index.names.get(name) ?? []).filter(
    (d) => !ref.kinds || ref.kinds.includes(d.kind)
  );
  if (defs.length === 0) return undefined;
  return { owners: new Set(defs.map((d) => d.owner)), kind: defs[0]!.kind };
}

export function isolationFindings(main: string, files: string[]): Finding[] {
  const index = buildIndex(main, files);
  // class references are matched by their exact spelling (identifiers are case-insensitive, but a variable
  // that happens to share a class's name in another case is not a reference to it)
  const exactClassNames = new Set(
    files.filter((f) => f.endsWith('.cls')).map((f) => path.basename(f, '.cls'))
  );
  const findings: Finding[] = [];
  for (const file of files) {
    const owner = ownerOf(main, file);
    if (owner === DEMO || !owner) continue;
    const allowed = owner === CORE ? new Set([CORE]) : new Set([CORE, owner]);
    const source = readText(file);
    if (source instanceof Error) {
      findings.push({ file, line: 0, rule: 'isolation/unreadable', message: source.message });
      continue;
    }
    let refs: Reference[] = [];
    if (file.endsWith('.cls') || file.endsWith('.trigger')) {
      const own = path.basename(file).replace(/\.(cls|trigger)$/, '');
      refs = apexReferences(file, source, new Set([...exactClassNames].filter((c) => c !== own)));
    } else if (/[\\/]lwc[\\/][^\\/]+[\\/][^\\/]+\.(js|html)$/.test(file)) {
      refs = lwcReferences(file, source);
    } else if (file.endsWith('.xml')) {
      try {
        const self = path.basename(file).replace(/\..*$/, '');
        refs = xmlReferences(file, readXml(source), self);
      } catch {
        continue; // malformed XML: the metadata check reports it
      }
    }
    for (const ref of refs) {
      const resolved = resolveOwners(ref, index);
      if (!resolved || [...resolved.owners].some((o) => allowed.has(o))) continue;
      const where = [...resolved.owners].map((o) => `${o}/`).join(', ');
      findings.push({
        file: ref.file,
        line: ref.line,
        column: ref.column,
        rule: 'isolation/cross-folder',
        message:
          owner === CORE
            ? `core refers to the ${resolved.kind} ${ref.name}, defined only in ${where}: core must deploy on its own`
            : `${owner}/ refers to the ${resolved.kind} ${ref.name}, defined only in ${where}: core + ${owner}/ would not deploy on their own (move it to core/, or give ${owner}/ its own)`
      });
    }
  }
  return findings;
}

export function checkIsolation(root: string): Promise<CheckResult> {
  return timed('isolation', root, async (notes) => {
    const mains = patternRoots(root);
    if (mains.length === 0) {
      notes.push(`no package directory has a main/${CORE}/ folder: nothing to check`);
      return { findings: [] };
    }
    const findings: Finding[] = [];
    for (const main of mains) {
      const files = walkFiles(
        main,
        (f) => !f.split(path.sep).includes('__tests__') && !f.endsWith('.ts')
      );
      findings.push(...isolationFindings(main, files));
      const folders = [...new Set(files.map((f) => ownerOf(main, f)))].filter(
        (o) => o !== CORE && o !== DEMO
      );
      notes.push(
        `${path.relative(root, main)}: ${folders.length} pattern folder(s) (${folders.join(', ')}) each checked against ${CORE}/ alone; ${CORE}/ against itself; ${DEMO}/ may use all (${lwcBundles(files).length} LWC bundles, ${files.length} files)`
      );
    }
    return { findings };
  });
}

if (require.main === module) runCli(checkIsolation);
