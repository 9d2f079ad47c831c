/**
 * Reading Apex for the drift checks, with the maintained grammar (@apexdevtools/apex-parser): a class's fields
 * (inner classes included) with their declared types and lines, and the string literals, map-literal entries and
 * field copies the patterns use to name things on the other side of the boundary.
 */
import {
  ApexErrorListener,
  ApexLexer,
  ApexParserFactory,
  type ClassDeclarationContext
} from '@apexdevtools/apex-parser';
import type { Location, SourceText } from './findings';

export interface ApexField {
  readonly name: string;
  /** The declared type as written, without spaces: `String`, `List<StockLine>`, `Map<String,Object>`. */
  readonly type: string;
  readonly line: number;
  readonly file: string;
  readonly isStatic: boolean;
  readonly isTransient: boolean;
  /** Annotations without `@`, lower case: `auraenabled`, `testvisible`. */
  readonly annotations: readonly string[];
}

export interface ApexClass {
  readonly name: string;
  /** `Outer.Inner` for inner classes. */
  readonly qualifiedName: string;
  readonly file: string;
  readonly line: number;
  /** Fields and properties in declaration order. */
  readonly fields: readonly ApexField[];
  readonly innerClasses: readonly ApexClass[];
}

/** A class file read as a tree: the top-level class and every inner class, found by simple or qualified name. */
export interface ApexClassFile {
  readonly file: string;
  readonly topLevel: ApexClass;
  /** Case-insensitive (Apex names are): by simple name and by `Outer.Inner`. */
  find(name: string): ApexClass | undefined;
}

class ThrowingListener extends ApexErrorListener {
  constructor(private readonly file: string) {
    super();
  }
  apexSyntaxError(line: number, column: number, message: string): void {
    throw new Error(`${this.file}:${line}:${column + 1} Apex syntax error: ${message}`);
  }
}

/** Parsed files by path and text: the checks and their mutation tests read the same files many times. */
const parsed = new Map<string, ApexClassFile>();

/** Parses a class file; a syntax error throws with its file and line (a drift check cannot read broken Apex). */
export function readApexClassFile(source: SourceText): ApexClassFile {
  const key = `${source.file}\u0000${source.text}`;
  const cached = parsed.get(key);
  if (cached) return cached;
  const result = parseApexClassFile(source);
  if (parsed.size > 50) parsed.clear();
  parsed.set(key, result);
  return result;
}

function parseApexClassFile(source: SourceText): ApexClassFile {
  const { parser } = ApexParserFactory.createLexerAndParser(
    source.text,
    new ThrowingListener(source.file)
  );
  const declaration = parser.compilationUnit().typeDeclaration().classDeclaration();
  if (!declaration) throw new Error(`${source.file}:1 is not an Apex class`);
  const topLevel = readClass(declaration, source.file, undefined);
  const byName = new Map<string, ApexClass>();
  const index = (cls: ApexClass): void => {
    byName.set(cls.qualifiedName.toLowerCase(), cls);
    if (!byName.has(cls.name.toLowerCase())) byName.set(cls.name.toLowerCase(), cls);
    cls.innerClasses.forEach(index);
  };
  index(topLevel);
  return { file: source.file, topLevel, find: (name) => byName.get(name.toLowerCase()) };
}

function readClass(
  declaration: ClassDeclarationContext,
  file: string,
  outer: string | undefined
): ApexClass {
  const name = declaration.id().getText();
  const qualifiedName = outer ? `${outer}.${name}` : name;
  const fields: ApexField[] = [];
  const innerClasses: ApexClass[] = [];
  for (const body of declaration.classBody().classBodyDeclaration_list()) {
    const member = body.memberDeclaration();
    if (!member) continue;
    const modifiers = body.modifier_list().map((m) => m.getText().toLowerCase());
    const annotations = modifiers.filter((m) => m.startsWith('@')).map((m) => annotationName(m));
    const flags = {
      isStatic: modifiers.includes('static'),
      isTransient: modifiers.includes('transient'),
      annotations
    };
    const field = member.fieldDeclaration();
    const property = member.propertyDeclaration();
    const inner = member.classDeclaration();
    if (field) {
      const type = field.typeRef().getText();
      for (const declarator of field.variableDeclarators().variableDeclarator_list()) {
        fields.push({
          name: declarator.id().getText(),
          type,
          line: declarator.start?.line ?? body.start?.line ?? 0,
          file,
          ...flags
        });
      }
    } else if (property) {
      fields.push({
        name: property.id().getText(),
        type: property.typeRef().getText(),
        line: property.id().start?.line ?? 0,
        file,
        ...flags
      });
    } else if (inner) {
      innerClasses.push(readClass(inner, file, qualifiedName));
    }
  }
  return {
    name,
    qualifiedName,
    file,
    line: declaration.id().start?.line ?? 0,
    fields,
    innerClasses
  };
}

function annotationName(modifier: string): string {
  return modifier.slice(1).replace(/\(.*$/s, '');
}

/** The fields a JSON (de)serialisation or an `@AuraEnabled` return sees: instance, not transient. */
export function serializedFields(cls: ApexClass): ApexField[] {
  return cls.fields.filter((f) => !f.isStatic && !f.isTransient);
}

/** The field named exactly `name`, or one that differs only in case (`caseOnly`), or undefined. */
export function findField(
  cls: ApexClass,
  name: string
): { field: ApexField; caseOnly: boolean } | undefined {
  const fields = serializedFields(cls);
  const exact = fields.find((f) => f.name === name);
  if (exact) return { field: exact, caseOnly: false };
  const loose = fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
  return loose ? { field: loose, caseOnly: true } : undefined;
}

/** A declared Apex type, reduced to what the drift checks compare. */
export type ApexType =
  | { readonly kind: 'primitive'; readonly name: string }
  | { readonly kind: 'list'; readonly element: ApexType }
  | { readonly kind: 'map'; readonly value: ApexType }
  | { readonly kind: 'class'; readonly name: string };

const PRIMITIVES = new Set([
  'string',
  'id',
  'integer',
  'long',
  'decimal',
  'double',
  'boolean',
  'date',
  'datetime',
  'time',
  'blob',
  'object'
]);

/** Parses a type as written in a declaration (`List<StockLine>`, `StockLine[]`, `Map<String,Object>`). */
export function parseApexType(text: string): ApexType {
  const type = text.replace(/\s+/g, '');
  if (type.endsWith('[]')) return { kind: 'list', element: parseApexType(type.slice(0, -2)) };
  const generic = /^([A-Za-z_][\w.]*)<(.*)>$/.exec(type);
  if (generic) {
    const outer = (generic[1] ?? '').toLowerCase();
    const args = splitTypeArguments(generic[2] ?? '');
    if ((outer === 'list' || outer === 'set') && args[0]) {
      return { kind: 'list', element: parseApexType(args[0]) };
    }
    if (outer === 'map' && args[1]) return { kind: 'map', value: parseApexType(args[1]) };
  }
  const lower = type.toLowerCase();
  if (PRIMITIVES.has(lower)) return { kind: 'primitive', name: lower };
  return { kind: 'class', name: type };
}

function splitTypeArguments(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '<') depth++;
    if (char === '>') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current) parts.push(current);
  return parts;
}

/** A token of the default channel (comments and whitespace dropped). */
export interface ApexToken {
  readonly type: number;
  readonly text: string;
  readonly line: number;
}

const lexed = new Map<string, ApexToken[]>();

export function apexTokens(source: SourceText): ApexToken[] {
  const cached = lexed.get(source.text);
  if (cached) return cached;
  const tokens = ApexParserFactory.createLexer(source.text)
    .getAllTokens()
    .filter((t) => t.channel === 0)
    .map((t) => ({ type: t.type, text: t.text ?? '', line: t.line }));
  if (lexed.size > 50) lexed.clear();
  lexed.set(source.text, tokens);
  return tokens;
}

/** The value of an Apex string literal token (`'it\'s'` → `it's`). */
export function unquoteApex(literal: string): string {
  return literal.slice(1, -1).replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_match, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(parseInt(escaped.slice(1), 16));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
    return simple[escaped] ?? escaped;
  });
}

export interface ApexLiteral extends Location {
  readonly value: string;
}

/** Every string literal in the file, with its line. */
export function apexStringLiterals(source: SourceText): ApexLiteral[] {
  return apexTokens(source)
    .filter((t) => t.type === ApexLexer.StringLiteral)
    .map((t) => ({ value: unquoteApex(t.text), file: source.file, line: t.line }));
}

/** The tokens of a field's initializer (`NAME = ... ;`), or undefined when the file declares no such field. */
function initializerTokens(tokens: ApexToken[], fieldName: string): ApexToken[] | undefined {
  const start = tokens.findIndex(
    (t, i) =>
      t.text.toLowerCase() === fieldName.toLowerCase() && tokens[i + 1]?.type === ApexLexer.ASSIGN
  );
  if (start < 0) return undefined;
  let depth = 0;
  const result: ApexToken[] = [];
  for (let i = start + 2; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type === ApexLexer.SEMI && depth === 0) break;
    if (['(', '{', '['].includes(token.text)) depth++;
    if ([')', '}', ']'].includes(token.text)) depth--;
    result.push(token);
  }
  return result;
}

export interface ApexMapEntry extends Location {
  readonly key: string;
  /** Type arguments of the literal's `new Map<...>`, without spaces (`String,Object`); '' when not found. */
  readonly mapTypes: string;
  /** The value when it is a string literal, else its source text (first token). */
  readonly value: string;
  readonly valueIsLiteral: boolean;
}

/**
 * The `'key' => value` entries of map literals: of one field's initializer when `fieldName` is given (e.g.
 * `SORTABLE_FIELDS`), else of the whole file (e.g. request bodies built as `new Map<String, Object>{ ... }`).
 */
export function apexMapEntries(source: SourceText, fieldName?: string): ApexMapEntry[] {
  const all = apexTokens(source);
  const tokens = fieldName === undefined ? all : initializerTokens(all, fieldName);
  if (!tokens) throw new Error(`${source.file} declares no field ${fieldName}`);
  const entries: ApexMapEntry[] = [];
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    const value = tokens[i + 2];
    if (token.type === ApexLexer.StringLiteral && next?.type === ApexLexer.MAPTO && value) {
      const valueIsLiteral = value.type === ApexLexer.StringLiteral;
      entries.push({
        key: unquoteApex(token.text),
        mapTypes: mapTypesAround(tokens, i),
        value: valueIsLiteral ? unquoteApex(value.text) : value.text,
        valueIsLiteral,
        file: source.file,
        line: token.line
      });
    }
  });
  return entries;
}

/** The type arguments of the `new Map<...>{` whose braces enclose token `index` (`String,Object`), or ''. */
function mapTypesAround(tokens: readonly ApexToken[], index: number): string {
  let depth = 0;
  let open = -1;
  for (let i = index - 1; i >= 0 && open < 0; i--) {
    const text = tokens[i]!.text;
    if (text === '}') depth++;
    if (text === '{') {
      if (depth === 0) open = i;
      else depth--;
    }
  }
  if (open < 1 || !tokens[open - 1]!.text.endsWith('>')) return '';
  let angle = 0;
  const parts: string[] = [];
  for (let i = open - 1; i >= 0; i--) {
    const text = tokens[i]!.text;
    angle += [...text].filter((c) => c === '>').length - [...text].filter((c) => c === '<').length;
    parts.unshift(text);
    if (angle === 0) {
      return tokens[i - 1]?.text.toLowerCase() === 'map' ? parts.join('').slice(1, -1) : '';
    }
  }
  return '';
}

/** The string literals of one field's initializer (e.g. `SELECT_LIST`, `SEARCH_FIELDS`). */
export function apexFieldLiterals(source: SourceText, fieldName: string): ApexLiteral[] {
  const tokens = initializerTokens(apexTokens(source), fieldName);
  if (!tokens) throw new Error(`${source.file} declares no field ${fieldName}`);
  return tokens
    .filter((t) => t.type === ApexLexer.StringLiteral)
    .map((t) => ({ value: unquoteApex(t.text), file: source.file, line: t.line }));
}

/** String-literal first arguments of calls to a method: `.get('error')` → `error` (for `methodName` `get`). */
export function apexCallLiterals(source: SourceText, methodName: string): ApexLiteral[] {
  const tokens = apexTokens(source);
  const found: ApexLiteral[] = [];
  tokens.forEach((token, i) => {
    const open = tokens[i + 1];
    const literal = tokens[i + 2];
    if (
      token.text.toLowerCase() === methodName.toLowerCase() &&
      tokens[i - 1]?.type === ApexLexer.DOT &&
      open?.type === ApexLexer.LPAREN &&
      literal?.type === ApexLexer.StringLiteral
    ) {
      found.push({ value: unquoteApex(literal.text), file: source.file, line: literal.line });
    }
  });
  return found;
}

export interface ApexFieldCopy extends Location {
  /** `row.shipmentNumber = shipment.ShipmentNumber__c;` → `shipmentNumber`. */
  readonly target: string;
  /** … → `ShipmentNumber__c`. */
  readonly source: string;
}

/** Statements `target.a = source.b;` (a DTO filled from a record), with their lines. */
export function apexFieldCopies(
  source: SourceText,
  targetVariable: string,
  sourceVariable: string
): ApexFieldCopy[] {
  const tokens = apexTokens(source);
  const copies: ApexFieldCopy[] = [];
  const is = (i: number, text: string): boolean =>
    tokens[i]?.text.toLowerCase() === text.toLowerCase();
  tokens.forEach((token, i) => {
    if (
      is(i, targetVariable) &&
      tokens[i - 1]?.type !== ApexLexer.DOT &&
      tokens[i + 1]?.type === ApexLexer.DOT &&
      tokens[i + 3]?.type === ApexLexer.ASSIGN &&
      is(i + 4, sourceVariable) &&
      tokens[i + 5]?.type === ApexLexer.DOT &&
      tokens[i + 7]?.type === ApexLexer.SEMI
    ) {
      copies.push({
        target: tokens[i + 2]!.text,
        source: tokens[i + 6]!.text,
        file: source.file,
        line: token.line
      });
    }
  });
  return copies;
}

/**
 * Words Apex reserves, which therefore cannot name a field (so a JSON key such as `currency` needs an explicit
 * rename on the Apex side). Source: Apex Developer Guide, "Reserved Keywords" (the current list, which includes the
 * type names and the words once marked "reserved for future use").
 */
export const APEX_RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'abstract activate and any array as asc autonomous begin bigdecimal blob boolean break bulk by byte case cast ' +
    'catch char class collect commit const continue currency date datetime decimal default delete desc do double ' +
    'else end enum exception exit export extends false final finally float for from global goto group having hint ' +
    'if implements import in inner insert instanceof int integer interface into join like limit list long loop map ' +
    'merge new not null nulls number object of on or outer override package parallel pragma private protected ' +
    'public retrieve return rollback select set short sobject sort static string super switch synchronized system ' +
    'testmethod then this throw time transaction trigger true try undelete update upsert using virtual void ' +
    'webservice when where while'
  ).split(' ')
);
