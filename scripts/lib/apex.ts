/**
 * Apex parsing with @apexdevtools/apex-parser (the maintained grammar, API 60+ syntax included), used for
 * the syntax check and to rewrite newer syntax the older apexlink analyser cannot parse.
 */
import {
  ApexErrorListener,
  ApexLexer,
  ApexParserFactory,
  ApexParseTreeWalker,
  ApexParserBaseListener,
  CoalExpressionContext,
  type ApexParserRuleContext
} from '@apexdevtools/apex-parser';

export interface ApexSyntaxError {
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

class CollectingListener extends ApexErrorListener {
  readonly errors: ApexSyntaxError[] = [];
  apexSyntaxError(line: number, column: number, msg: string): void {
    this.errors.push({ line, column: column + 1, message: shortenExpecting(msg) });
  }
}

export interface ApexParse {
  errors: ApexSyntaxError[];
  tree: ApexParserRuleContext;
}

/** Parses a class (`.cls`) or trigger (`.trigger`) and returns every lexer and parser error. */
export function parseApex(source: string, kind: 'class' | 'trigger'): ApexParse {
  const listener = new CollectingListener();
  const { parser } = ApexParserFactory.createLexerAndParser(source, listener);
  const tree = kind === 'trigger' ? parser.triggerUnit() : parser.compilationUnit();
  return { errors: listener.errors, tree };
}

export function apexKind(file: string): 'class' | 'trigger' {
  return file.endsWith('.trigger') ? 'trigger' : 'class';
}

interface Span {
  start: number;
  /** Inclusive. */
  stop: number;
}

/**
 * Rewrites syntax newer than apexlink 2.3.7's grammar into text it accepts, keeping every line and column
 * of the remaining code where it was (removed text becomes spaces), so its findings map back 1:1:
 * - `WITH USER_MODE` / `WITH SYSTEM_MODE` in SOQL/SOSL: the clause is blanked (access mode does not change
 *   the static types apexlink checks);
 * - `insert as user x` (DML access mode): `as user` / `as system` is blanked;
 * - `a ?? b` (null coalescing, API 60): `?? b` is blanked, leaving `a`, whose type is the type of the
 *   whole expression. Cost: apexlink does not check the right-hand operand (apex-parser still parses it);
 * - `[FIND 'term' …]` (inline SOSL with a literal term, which apexlink's grammar rejects): the literal
 *   becomes the bind `:'xx…'` of the same length.
 * Returns null when the source has syntax errors (the syntax check reports those).
 */
export function rewriteForApexlink(source: string, kind: 'class' | 'trigger'): string | null {
  const parsed = parseApex(source, kind);
  if (parsed.errors.length > 0) return null;
  const spans: Span[] = [];

  // Token-level constructs: WITH USER_MODE/SYSTEM_MODE and DML `as user|system`.
  const lexer = ApexParserFactory.createLexer(source);
  const tokens = lexer.getAllTokens().filter((t) => t.channel === 0);
  const DML = new Set([
    ApexLexer.INSERT,
    ApexLexer.UPDATE,
    ApexLexer.UPSERT,
    ApexLexer.DELETE,
    ApexLexer.UNDELETE,
    ApexLexer.MERGE
  ]);
  // Inline SOSL with a literal search term: `[FIND 'acme*' …]` is valid Apex, but apexlink's grammar
  // only takes a bind there. The literal becomes a bind of a same-length literal: `:'xxxx'`.
  const replacements: { start: number; text: string }[] = [];
  for (const token of tokens) {
    if (token.type !== ApexLexer.FindLiteral) continue;
    const quoted = /'(?:[^'\\]|\\.)*'\s*$/.exec(token.text);
    if (!quoted || quoted[0].trimEnd().length < 3) continue;
    const length = quoted[0].trimEnd().length;
    replacements.push({ start: token.start + quoted.index, text: `:'${'x'.repeat(length - 3)}'` });
  }

  for (let i = 0; i + 1 < tokens.length; i++) {
    const token = tokens[i]!;
    const next = tokens[i + 1]!;
    if (
      token.type === ApexLexer.WITH &&
      (next.type === ApexLexer.USER_MODE || next.type === ApexLexer.SYSTEM_MODE)
    ) {
      spans.push({ start: token.start, stop: next.stop });
    }
    const third = tokens[i + 2];
    if (
      DML.has(token.type) &&
      next.type === ApexLexer.AS &&
      third &&
      (third.type === ApexLexer.USER || third.type === ApexLexer.SYSTEM)
    ) {
      spans.push({ start: next.start, stop: third.stop });
    }
  }

  // Null coalescing: blank from `??` to the end of the right operand.
  class CoalListener extends ApexParserBaseListener {
    enterCoalExpression = (ctx: CoalExpressionContext): void => {
      const rhs = ctx.expression(1);
      const coal = ctx.COAL().symbol;
      if (rhs?.stop) spans.push({ start: coal.start, stop: rhs.stop.stop });
    };
  }
  ApexParseTreeWalker.DEFAULT.walk(new CoalListener(), parsed.tree);

  if (spans.length === 0 && replacements.length === 0) return source;
  const chars = source.split('');
  for (const span of spans) {
    for (let i = span.start; i <= span.stop && i < chars.length; i++) {
      if (chars[i] !== '\n' && chars[i] !== '\r') chars[i] = ' ';
    }
  }
  for (const { start, text } of replacements) {
    for (let i = 0; i < text.length; i++) chars[start + i] = text[i]!;
  }
  return chars.join('');
}

/** ANTLR lists every token it expected; more than a handful is noise in a report. */
export function shortenExpecting(message: string): string {
  return message.replace(/expecting \{([^}]*)\}/, (whole, list: string) => {
    const items = list.split(', ');
    return items.length <= 6
      ? whole
      : `expecting one of ${items.length} tokens (${items.slice(0, 4).join(', ')}, …)`;
  });
}
