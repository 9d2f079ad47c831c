/**
 * `$search` (what Salesforce Connect sends for SOSL and global search when "Include in Salesforce Searches" is on):
 * words and "quoted phrases", combined with `AND` (also implicit), `OR` and `NOT` — precedence NOT > AND > OR, with
 * parentheses. A term matches a row when any searchable column contains it, case-insensitively: tested on every row,
 * unless the caller gives a term's candidate rows from indexes (`candidates`, see `EntityQueries.searchCandidates`).
 */
import { ODataQueryError } from './errors';
import { quoteIdentifier, type SqlFragment } from './sql';
import type { EntitySetDefinition } from './entity';

/** A parsed `$search` value: its terms (as written), combined. */
export type SearchNode =
  | { kind: 'term'; text: string }
  | { kind: 'and' | 'or'; left: SearchNode; right: SearchNode }
  | { kind: 'not'; operand: SearchNode };

interface SearchToken {
  kind: 'word' | 'phrase' | 'AND' | 'OR' | 'NOT' | '(' | ')' | 'end';
  text: string;
  position: number;
}

const TARGET = '$search';

function tokenizeSearch(input: string): SearchToken[] {
  const tokens: SearchToken[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch, text: ch, position: i });
      i++;
    } else if (ch === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= input.length) throw new ODataQueryError('Unterminated phrase', TARGET, i);
        const c = input[j]!;
        if (c === '\\') {
          const escaped = input[j + 1];
          if (escaped !== '"' && escaped !== '\\') {
            throw new ODataQueryError('Invalid escape in phrase', TARGET, j);
          }
          text += escaped;
          j += 2;
          continue;
        }
        if (c === '"') break;
        text += c;
        j++;
      }
      if (text.length === 0) throw new ODataQueryError('Empty phrase', TARGET, i);
      tokens.push({ kind: 'phrase', text, position: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < input.length && !/[\s()"]/.test(input[j]!)) j++;
      const word = input.slice(i, j);
      const kind = word === 'AND' || word === 'OR' || word === 'NOT' ? word : 'word';
      tokens.push({ kind, text: word, position: i });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: '', position: input.length });
  return tokens;
}

class SearchParser {
  private index = 0;
  constructor(private readonly tokens: SearchToken[]) {}

  private peek(): SearchToken {
    return this.tokens[this.index]!;
  }

  parse(): SearchNode {
    if (this.peek().kind === 'end') throw new ODataQueryError('Empty $search', TARGET, 0);
    const node = this.parseOr();
    const token = this.peek();
    if (token.kind !== 'end') {
      throw new ODataQueryError(`Unexpected '${token.text}'`, TARGET, token.position);
    }
    return node;
  }

  private parseOr(): SearchNode {
    let left = this.parseAnd();
    while (this.peek().kind === 'OR') {
      this.index++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): SearchNode {
    let left = this.parseNot();
    for (;;) {
      const kind = this.peek().kind;
      if (kind === 'AND') {
        this.index++;
      } else if (kind !== 'word' && kind !== 'phrase' && kind !== 'NOT' && kind !== '(') {
        return left;
      }
      left = { kind: 'and', left, right: this.parseNot() };
    }
  }

  private parseNot(): SearchNode {
    if (this.peek().kind === 'NOT') {
      this.index++;
      return { kind: 'not', operand: this.parseNot() };
    }
    const token = this.tokens[this.index++]!;
    if (token.kind === 'word' || token.kind === 'phrase') return { kind: 'term', text: token.text };
    if (token.kind === '(') {
      const inner = this.parseOr();
      const close = this.tokens[this.index++]!;
      if (close.kind !== ')') {
        throw new ODataQueryError("Expected ')'", TARGET, close.position);
      }
      return inner;
    }
    const what = token.kind === 'end' ? 'the end of $search' : `'${token.text}'`;
    throw new ODataQueryError(`Expected a search term but found ${what}`, TARGET, token.position);
  }
}

/** Parses a `$search` value (a 400 `ODataQueryError` when it is malformed). */
export function parseSearch(input: string): SearchNode {
  return new SearchParser(tokenizeSearch(input)).parse();
}

/** A `$search` value that parses to `node`: each term a phrase, each combination in parentheses. */
export function writeSearch(node: SearchNode): string {
  switch (node.kind) {
    case 'term':
      return `"${node.text.replace(/["\\]/g, '\\$&')}"`;
    case 'and':
    case 'or':
      return `(${writeSearch(node.left)} ${node.kind.toUpperCase()} ${writeSearch(node.right)})`;
    case 'not':
      return `(NOT ${writeSearch(node.operand)})`;
  }
}

/** The one term (in lower case) a `$search` value is, or undefined when it combines several or negates one. */
export function soleSearchTerm(input: string): string | undefined {
  const tree = parseSearch(input);
  return tree.kind === 'term' ? tree.text.toLowerCase() : undefined;
}

/**
 * SQL testing that `expression` contains `term` (lower case) once SQLite's `lower` has folded it, which folds ASCII
 * letters only; it binds `term` once. A term with no ASCII letter is at the same places in a value as in its folded
 * copy, so it is tested without `lower`, which copies every value it reads: walking the order's index to meet 50 keys
 * holding 4 digits took 9.4 ms with it and 5.5 ms without at 10M rows.
 */
export function containsTerm(expression: string, term: string): string {
  return /[A-Za-z]/.test(term)
    ? `instr(lower(${expression}), ?) > 0`
    : `instr(${expression}, ?) > 0`;
}

/** One column's test of a `$search` term (lower case), as `compileSearch` tests it: false, never null, on a null. */
export function termTest(column: string, term: string): SqlFragment {
  return { sql: `coalesce(${containsTerm(quoteIdentifier(column), term)}, 0)`, params: [term] };
}

/**
 * Compiles a `$search` value to a parameterised predicate over the entity's searchable columns. `candidates` may give
 * a term (in lower case) a condition that holds on every row the term matches and on few others (read from indexes):
 * the term is then that condition and its own test, so SQLite starts from those rows and the result is unchanged.
 */
export function compileSearch(
  input: string,
  entity: EntitySetDefinition,
  candidates?: (term: string) => SqlFragment | undefined
): SqlFragment {
  const tree = parseSearch(input);
  const columns = entity.properties.filter((p) => p.searchable).map((p) => p.column);
  const params: unknown[] = [];
  const walk = (node: SearchNode): string => {
    switch (node.kind) {
      case 'term': {
        const term = node.text.toLowerCase();
        const rows = candidates?.(term);
        if (rows) params.push(...rows.params);
        const parts = columns.map((column) => {
          params.push(term);
          return containsTerm(quoteIdentifier(column), term);
        });
        // A null column contributes false, never null, so NOT keeps its two-valued meaning.
        const test = `coalesce(${parts.join(' OR ')}, 0)`;
        return rows ? `(${rows.sql} AND ${test})` : `(${test})`;
      }
      case 'and':
        return `(${walk(node.left)} AND ${walk(node.right)})`;
      case 'or':
        return `(${walk(node.left)} OR ${walk(node.right)})`;
      case 'not':
        return `(NOT ${walk(node.operand)})`;
    }
  };
  return { sql: walk(tree), params };
}
