/**
 * `$filter` parser for the subset of OData 4.0 that Salesforce Connect sends, written here because the npm parsers
 * get operator precedence wrong (`not f(x) and y`). It type-checks while it parses, so every error carries the
 * position of the token at fault, and only properties of the entity can appear in the tree.
 *
 * Precedence, loosest first, as in OData 4.01 URL Conventions §5.1.1.1: `or`, `and`, `eq`/`ne`, `gt`/`ge`/`lt`/`le`,
 * (additive, multiplicative: rejected), unary `not`, primary (`in`, function calls, parentheses).
 */
import { ODataQueryError } from './errors';
import { findProperty, type PropertyDefinition } from './entity';

/** The value families an expression can have; `null` is the type of the `null` literal only. */
export type ValueType = 'string' | 'number' | 'boolean' | 'date' | 'datetime' | 'null';

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type StringFunction = 'contains' | 'startswith' | 'endswith';

export interface DateTimeValue {
  /** UTC instant to the second, in the stored format `YYYY-MM-DDTHH:MM:SSZ`. */
  readonly seconds: string;
  /** Fraction of a second as 12 digits ('000000000000' when none), kept so comparisons stay exact. */
  readonly fraction: string;
}

export type LiteralValue = string | number | boolean | null | DateTimeValue;

export type FilterNode =
  | { kind: 'literal'; type: ValueType; value: LiteralValue; position: number }
  | { kind: 'property'; type: ValueType; property: PropertyDefinition; position: number }
  | { kind: 'compare'; op: CompareOp; left: FilterNode; right: FilterNode; position: number }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode; position: number }
  | { kind: 'not'; operand: FilterNode; position: number }
  | { kind: 'call'; name: StringFunction; args: [FilterNode, FilterNode]; position: number }
  | { kind: 'in'; operand: FilterNode; list: FilterNode[]; position: number };

type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | '(' | ')' | ',' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
  readonly value?: LiteralValue;
}

const TARGET = '$filter';
const UNSUPPORTED_OPERATORS = new Set(['add', 'sub', 'mul', 'div', 'divby', 'mod', 'has', 'isof']);
const STRING_FUNCTIONS = new Set<string>(['contains', 'startswith', 'endswith']);
const RELATIONAL = new Set<string>(['gt', 'ge', 'lt', 'le']);

const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;
const NUMBER_RE = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const IDENT_CHAR = /[A-Za-z0-9_.:]/;

function fail(message: string, position: number): never {
  throw new ODataQueryError(message, TARGET, position);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkDate(year: number, month: number, day: number, position: number): void {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    fail('Invalid date literal', position);
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Turns a DateTimeOffset literal into a UTC instant to the second plus its exact fraction. */
function toDateTime(match: RegExpExecArray, position: number): DateTimeValue {
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(match[i]));
  const second = match[6] === undefined ? 0 : Number(match[6]);
  checkDate(year!, month!, day!, position);
  if (hour! > 23 || minute! > 59 || second > 59) fail('Invalid time of day', position);
  const zone = match[8]!;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const zoneHours = Number(zone.slice(1, 3));
    const zoneMinutes = Number(zone.slice(4, 6));
    if (zoneHours > 23 || zoneMinutes > 59) fail('Invalid time zone offset', position);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const utc = new Date(
    Date.UTC(year!, month! - 1, day!, hour!, minute! - offsetMinutes, second) // offset applied
  );
  const utcYear = utc.getUTCFullYear();
  if (utcYear < 0 || utcYear > 9999) fail('DateTimeOffset literal out of range', position);
  const seconds =
    `${pad(utcYear, 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}` +
    `T${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}Z`;
  return { seconds, fraction: (match[7] ?? '').padEnd(12, '0') };
}

/** Splits a `$filter` value into tokens; literals are decoded and validated here. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    const rest = input.slice(i);
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch, text: ch, position: i });
      i++;
      continue;
    }
    if (ch === "'") {
      // OData string literal: a single quote inside is written as two.
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= input.length) fail('Unterminated string literal', i);
        if (input[j] === "'") {
          if (input[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += input[j];
        j++;
      }
      tokens.push({ kind: 'string', text: input.slice(i, j + 1), position: i, value });
      i = j + 1;
      continue;
    }
    if (/[0-9-]/.test(ch)) {
      const dateTime = DATETIME_RE.exec(rest);
      if (dateTime && !IDENT_CHAR.test(rest[dateTime[0].length] ?? ' ')) {
        tokens.push({
          kind: 'datetime',
          text: dateTime[0],
          position: i,
          value: toDateTime(dateTime, i)
        });
        i += dateTime[0].length;
        continue;
      }
      const date = DATE_RE.exec(rest);
      if (date && !/[A-Za-z0-9_.:-]/.test(rest[date[0].length] ?? ' ')) {
        checkDate(Number(date[1]), Number(date[2]), Number(date[3]), i);
        tokens.push({ kind: 'date', text: date[0], position: i, value: date[0] });
        i += date[0].length;
        continue;
      }
      const number = NUMBER_RE.exec(rest);
      if (number) {
        if (IDENT_CHAR.test(rest[number[0].length] ?? ' ') || rest[number[0].length] === '-') {
          fail('Malformed numeric, date or time literal', i);
        }
        const text = number[0];
        const value = Number(text);
        const integral = /^-?\d+$/.test(text);
        if (!Number.isFinite(value) || (integral && !Number.isSafeInteger(value))) {
          fail('Numeric literal out of range', i);
        }
        tokens.push({ kind: 'number', text, position: i, value });
        i += text.length;
        continue;
      }
      if (ch === '-') fail("Unary minus ('-') is only supported in numeric literals", i);
    }
    const ident = IDENT_RE.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], position: i });
      i += ident[0].length;
      continue;
    }
    if (ch === '/') fail('Navigation and lambda paths are not supported', i);
    fail(`Unexpected character '${ch}'`, i);
  }
  tokens.push({ kind: 'end', text: '', position: input.length });
  return tokens;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    return this.tokens[this.index++]!;
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.text === word;
  }

  private expect(kind: TokenKind, what: string): Token {
    const token = this.peek();
    if (token.kind !== kind) {
      fail(`Expected ${what} but found ${describe(token)}`, token.position);
    }
    return this.next();
  }

  parse(): FilterNode {
    if (this.peek().kind === 'end') fail('Empty $filter expression', 0);
    const node = this.parseOr();
    const token = this.peek();
    if (token.kind !== 'end') fail(`Unexpected ${describe(token)}`, token.position);
    requireBoolean(node);
    return node;
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isKeyword('or')) {
      const op = this.next();
      const right = this.parseAnd();
      requireBoolean(left);
      requireBoolean(right);
      left = { kind: 'or', left, right, position: op.position };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseEquality();
    while (this.isKeyword('and')) {
      const op = this.next();
      const right = this.parseEquality();
      requireBoolean(left);
      requireBoolean(right);
      left = { kind: 'and', left, right, position: op.position };
    }
    return left;
  }

  private parseEquality(): FilterNode {
    let left = this.parseRelational();
    while (this.isKeyword('eq') || this.isKeyword('ne')) {
      const op = this.next();
      const right = this.parseRelational();
      left = compareNode(op, left, right);
    }
    return left;
  }

  private parseRelational(): FilterNode {
    let left = this.parseUnary();
    for (;;) {
      const token = this.peek();
      if (token.kind === 'ident' && RELATIONAL.has(token.text)) {
        this.next();
        const right = this.parseUnary();
        left = compareNode(token, left, right);
        continue;
      }
      if (token.kind === 'ident' && UNSUPPORTED_OPERATORS.has(token.text)) {
        fail(`Operator '${token.text}' is not supported`, token.position);
      }
      return left;
    }
  }

  private parseUnary(): FilterNode {
    if (this.isKeyword('not')) {
      const op = this.next();
      const operand = this.parseUnary();
      requireBoolean(operand, "Operand of 'not' must be a Boolean expression");
      return { kind: 'not', operand, position: op.position };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterNode {
    const operand = this.parseAtom();
    if (this.isKeyword('in')) {
      const op = this.next();
      if (resultType(operand) === 'boolean' || resultType(operand) === 'null') {
        fail("Left operand of 'in' must be a property or literal", operand.position);
      }
      this.expect('(', "'(' after 'in'");
      const list: FilterNode[] = [];
      for (;;) {
        const item = this.parseAtom();
        if (item.kind !== 'literal') fail("Items of an 'in' list must be literals", item.position);
        checkComparable(operand, item, 'eq', item.position);
        list.push(item);
        if (this.peek().kind === ',') {
          this.next();
          continue;
        }
        this.expect(')', "',' or ')' in the 'in' list");
        break;
      }
      return { kind: 'in', operand, list, position: op.position };
    }
    return operand;
  }

  private parseAtom(): FilterNode {
    const token = this.next();
    switch (token.kind) {
      case '(': {
        const inner = this.parseOr();
        this.expect(')', "')'");
        return inner;
      }
      case 'string':
        return literal('string', token);
      case 'number':
        return literal('number', token);
      case 'date':
        return literal('date', token);
      case 'datetime':
        return literal('datetime', token);
      case 'ident':
        return this.parseIdentifier(token);
      default:
        return fail(`Expected an operand but found ${describe(token)}`, token.position);
    }
  }

  private parseIdentifier(token: Token): FilterNode {
    const lower = token.text.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      return {
        kind: 'literal',
        type: 'boolean',
        value: lower === 'true',
        position: token.position
      };
    }
    if (token.text === 'null') {
      return { kind: 'literal', type: 'null', value: null, position: token.position };
    }
    if (this.peek().kind === '(') {
      if (!STRING_FUNCTIONS.has(token.text)) {
        fail(`Function '${token.text}' is not supported`, token.position);
      }
      this.next();
      const first = this.parseOr();
      this.expect(',', `',' between the arguments of ${token.text}`);
      const second = this.parseOr();
      this.expect(')', `')' closing ${token.text}`);
      for (const arg of [first, second]) {
        if (resultType(arg) !== 'string' && resultType(arg) !== 'null') {
          fail(`Arguments of ${token.text} must be strings`, arg.position);
        }
      }
      return {
        kind: 'call',
        name: token.text as StringFunction,
        args: [first, second],
        position: token.position
      };
    }
    if (['and', 'or', 'not', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in'].includes(token.text)) {
      fail(`Expected an operand but found operator '${token.text}'`, token.position);
    }
    if (UNSUPPORTED_OPERATORS.has(token.text)) {
      fail(`Operator '${token.text}' is not supported`, token.position);
    }
    const property = findProperty(token.text);
    if (!property) fail(`Unknown property '${token.text}'`, token.position);
    return { kind: 'property', type: typeOf(property), property, position: token.position };
  }
}

function literal(type: ValueType, token: Token): FilterNode {
  return { kind: 'literal', type, value: token.value ?? null, position: token.position };
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the expression' : `'${token.text}'`;
}

/** The expression type of a property. */
export function typeOf(property: PropertyDefinition): ValueType {
  switch (property.type) {
    case 'Edm.String':
      return 'string';
    case 'Edm.Boolean':
      return 'boolean';
    case 'Edm.Date':
      return 'date';
    case 'Edm.DateTimeOffset':
      return 'datetime';
    default:
      return 'number';
  }
}

function resultType(node: FilterNode): ValueType {
  return node.kind === 'literal' || node.kind === 'property' ? node.type : 'boolean';
}

function requireBoolean(node: FilterNode, message = 'Expected a Boolean expression'): void {
  const type = resultType(node);
  if (type !== 'boolean' && type !== 'null') fail(message, node.position);
}

function checkComparable(left: FilterNode, right: FilterNode, op: string, position: number): void {
  const a = resultType(left);
  const b = resultType(right);
  if (a === 'null' || b === 'null') return;
  if (a !== b) fail(`Cannot compare ${a} with ${b} using '${op}'`, position);
  if (a === 'boolean' && RELATIONAL.has(op)) {
    fail(`Operator '${op}' does not apply to Boolean values`, position);
  }
}

function compareNode(op: Token, left: FilterNode, right: FilterNode): FilterNode {
  checkComparable(left, right, op.text, op.position);
  return { kind: 'compare', op: op.text as CompareOp, left, right, position: op.position };
}

/** Parses and type-checks a `$filter` value; throws {@link ODataQueryError} (400) with the position at fault. */
export function parseFilter(input: string): FilterNode {
  return new Parser(tokenize(input)).parse();
}
