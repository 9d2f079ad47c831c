/**
 * apex-types: Apex compile errors that apexlink 2.3.7 does not report, found on the @apexdevtools/apex-parser
 * tree and resolved against the schema apexlink knows (lib/platform.ts) plus the project's objects:
 * - `apex-types/soql-field`: a field, relationship or child relationship inside inline SOQL/SOSL that the object
 *   does not have (apexlink checks `Account.Nam` in code, not inside a query);
 * - `apex-types/soql-assignment`: a query's rows assigned (declaration, `return`, `for` loop) to another SObject
 *   type, or an aggregate query to a list of SObjects;
 * - `apex-types/missing-return`: a non-void method or property getter with a path that does not return;
 * - `apex-types/return-type`: `return value` whose type cannot be the declared type (literals, locals and
 *   parameters of simple types, `new X(…)`, queries), `return x` in a void method, `return;` in a non-void one;
 * - `apex-types/final-reassigned`: a `final` local or field assigned again after its initializer, or a `final` field
 *   assigned outside a constructor or initializer;
 * - `apex-types/constructor-args`: `new X(…)` of a platform class with no constructor taking those arguments (the
 *   public constructors apexlink ships for the system classes).
 *
 * Narrow on purpose: every rule judges only what it can type for certain (literals, declared types, the schema);
 * anything else (method calls, fields of other classes, generic types it cannot see) is left alone, so valid
 * modern Apex (`?.`, `??`, `switch`, user mode, `Assert`, inner classes, generics) never trips it.
 */
import * as path from 'node:path';
import {
  declaredTypeNames,
  descendants,
  positionOf,
  readApexFile,
  type ApexFile,
  type TreeNode
} from '../lib/apex-model';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import { platform } from '../lib/platform';
import { packageFiles } from '../lib/project';
import { Schema, isCustomObjectName, type ObjectInfo } from '../lib/schema';

const is = (node: TreeNode | undefined | null, name: string): boolean =>
  !!node && node.constructor.name === name;
const kids = (node: TreeNode | undefined | null): TreeNode[] => node?.children ?? [];
const kid = (node: TreeNode | undefined | null, name: string): TreeNode | undefined =>
  kids(node).find((c) => is(c, name));
/** The expression child of a node (expression rules are subclasses named `…ExpressionContext`). */
const exprOf = (node: TreeNode | undefined | null): TreeNode | undefined =>
  kids(node).find(
    (c) => /ExpressionContext$/.test(c.constructor.name) && !is(c, 'ParExpressionContext')
  );
const kidsNamed = (node: TreeNode | undefined | null, name: string): TreeNode[] =>
  kids(node).filter((c) => is(c, name));

/** Descendants of a node, not descending into nodes `stop` accepts (those are still yielded). */
function* walkUntil(node: TreeNode, stop: (n: TreeNode) => boolean): Generator<TreeNode> {
  for (const child of kids(node)) {
    yield child;
    if (!stop(child)) yield* walkUntil(child, stop);
  }
}

interface Env {
  root: string;
  schema: Schema;
  /** Lower-case names of every Apex type the project declares (top-level and inner). */
  projectTypes: Set<string>;
  constructors: Record<string, string[][]>;
}

class Reporter {
  readonly findings: Finding[] = [];
  constructor(readonly file: string) {}
  add(node: TreeNode, rule: string, message: string): void {
    this.findings.push({
      file: this.file,
      ...positionOf(node),
      rule: `apex-types/${rule}`,
      message
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// types

const FAMILIES: Record<string, string> = {
  string: 'text',
  id: 'text',
  integer: 'number',
  long: 'number',
  decimal: 'number',
  double: 'number',
  boolean: 'boolean',
  date: 'time',
  datetime: 'time',
  time: 'time',
  blob: 'blob'
};

/** A type as text, normalised: lower case, no `System.`/`Schema.` prefix, `X[]` as `list<x>`, no spaces. */
export function normaliseType(text: string): string {
  let t = text.replace(/\s+/g, '').toLowerCase();
  t = t.replace(/\b(system|schema)\./g, '');
  while (t.endsWith('[]')) t = `list<${t.slice(0, -2)}>`;
  return t;
}

function listElement(type: string): string | undefined {
  return /^list<(.+)>$/.exec(type)?.[1];
}

type Verdict = 'ok' | 'error' | 'unknown';

function isKnownSObject(type: string, env: Env): boolean {
  if (env.projectTypes.has(type)) return false;
  return !!env.schema.object(type) && !/[<>.]/.test(type);
}

/** Can a value of type `source` be assigned to `target`? Only 'error' when certain. */
export function assignable(source: string, target: string, env: Env): Verdict {
  if (source === 'null') return 'ok';
  if (target === 'object' || source === target) return 'ok';
  const sf = FAMILIES[source];
  const tf = FAMILIES[target];
  if (sf && tf) {
    if (sf !== tf) return 'error';
    // narrowing a number (Decimal → Integer) is a compile error; widening is fine
    if (sf === 'number') {
      const order = ['integer', 'long', 'decimal', 'double'];
      if (
        order.indexOf(source) > order.indexOf(target) &&
        !(source === 'double' && target === 'decimal')
      )
        return 'error';
    }
    return 'ok';
  }
  const sourceList = listElement(source);
  const targetList = listElement(target);
  const sourceObject = isKnownSObject(source, env);
  const targetObject = isKnownSObject(target, env);
  if (sf && (targetObject || targetList !== undefined || target === 'sobject')) return 'error';
  if (tf && (sourceObject || sourceList !== undefined || source === 'aggregateresult'))
    return 'error';
  if (sourceObject && targetObject) return 'error';
  if (sourceObject && target === 'sobject') return 'ok';
  if (source === 'aggregateresult' && targetObject) return 'error';
  if (sourceList !== undefined && targetList !== undefined) {
    if (targetList === 'sobject' && (isKnownSObject(sourceList, env) || sourceList === 'sobject'))
      return 'ok';
    if (targetList === 'object') return 'unknown';
    const inner = assignable(sourceList, targetList, env);
    // List<Integer> is not a List<Long> either: element types must match, except SObject covariance
    if (inner === 'ok' && sourceList !== targetList && FAMILIES[sourceList]) return 'error';
    return inner;
  }
  if (sourceList !== undefined && (targetObject || target === 'sobject')) return 'error';
  if (targetList !== undefined && (sourceObject || source === 'aggregateresult')) return 'error';
  return 'unknown';
}

function display(type: string): string {
  const list = listElement(type);
  return list ? `List<${display(list)}>` : type;
}

// ---------------------------------------------------------------------------------------------------------
// SOQL

interface QueryShape {
  /** `list<account>`, `list<aggregateresult>`, or `integer` for `SELECT COUNT() …`; undefined if unknown. */
  rows?: string;
  object?: string;
}

function fromObject(query: TreeNode): { name: string; alias?: string; node: TreeNode } | undefined {
  const from = kid(query, 'FromNameListContext');
  const first = kid(from, 'FieldNameContext');
  if (!first) return undefined;
  const alias = kid(from, 'SoqlIdContext');
  return { name: first.getText(), node: first, ...(alias ? { alias: alias.getText() } : {}) };
}

function queryShape(query: TreeNode): QueryShape {
  const from = fromObject(query);
  const select = kid(query, 'SelectListContext');
  const entries = kidsNamed(select, 'SelectEntryContext');
  const functions = entries.filter((e) => {
    const fn = kid(e, 'SoqlFunctionContext');
    return fn && !/^(tolabel|format|convertcurrency)\(/i.test(fn.getText());
  });
  if (entries.length === 1 && /^count\(\)$/i.test(entries[0]!.getText()))
    return { rows: 'integer' };
  if (functions.length > 0 || kid(query, 'GroupByClauseContext'))
    return { rows: 'list<aggregateresult>' };
  if (!from || from.name.includes('.')) return {};
  return { rows: `list<${from.name.toLowerCase()}>`, object: from.name };
}

function checkFieldPath(
  nameNode: TreeNode,
  object: ObjectInfo,
  aliases: Set<string>,
  env: Env,
  out: Reporter
): void {
  let segments = nameNode.getText().split('.');
  const first = segments[0]!.toLowerCase();
  if (segments.length > 1 && (aliases.has(first) || first === object.name.toLowerCase()))
    segments = segments.slice(1);
  if (segments.length === 1 && aliases.has(segments[0]!.toLowerCase())) return; // ORDER BY alias
  const resolved = env.schema.resolvePath(object, segments);
  if (resolved.kind !== 'missing') return;
  const where = resolved.index === segments.length - 1 ? 'field' : 'relationship';
  out.add(
    nameNode,
    'soql-field',
    `${resolved.object.name} has no ${where} ${resolved.segment}${resolved.object.origin === 'standard' ? ' (standard schema as apexlink knows it, plus the project)' : ''}: the query does not compile`
  );
}

function checkQuery(
  query: TreeNode,
  object: ObjectInfo | undefined,
  env: Env,
  out: Reporter
): void {
  const from = fromObject(query);
  const aliases = new Set<string>();
  if (from?.alias) aliases.add(from.alias.toLowerCase());
  for (const entry of [
    ...kidsNamed(kid(query, 'SelectListContext'), 'SelectEntryContext'),
    ...kidsNamed(kid(query, 'SubFieldListContext'), 'SubFieldEntryContext')
  ]) {
    const alias = kid(entry, 'SoqlIdContext');
    if (alias) aliases.add(alias.getText().toLowerCase());
  }
  const stop = (n: TreeNode): boolean =>
    is(n, 'SubQueryContext') ||
    is(n, 'FromNameListContext') ||
    is(n, 'TypeOfContext') ||
    is(n, 'WithClauseContext') ||
    is(n, 'UsingScopeContext');
  for (const node of walkUntil(query, stop)) {
    if (is(node, 'FieldNameContext') && object) {
      checkFieldPath(node, object, aliases, env, out);
    } else if (is(node, 'SubQueryContext')) {
      const inner = fromObject(node);
      const inSelect =
        is(node.parentCtx, 'SelectEntryContext') || is(node.parentCtx, 'SubFieldEntryContext');
      let innerObject: ObjectInfo | undefined;
      if (inner && inSelect) {
        // a child relationship of the outer object: Contacts, Web_Orders__r
        const relationship = object?.fields.get(inner.name.toLowerCase());
        const child = /^children:(\w+)$/.exec(relationship?.type ?? '')?.[1];
        innerObject = child ? env.schema.object(child) : undefined;
        if (
          object &&
          !relationship &&
          env.schema.knowsAllFieldsOf(object) &&
          inner.name.split('__').length <= 2
        )
          out.add(
            inner.node,
            'soql-field',
            `${object.name} has no child relationship ${inner.name}: the query does not compile`
          );
      } else if (inner) {
        innerObject = resolveObject(inner.name, inner.node, env, out);
      }
      checkQuery(node, innerObject, env, out);
    }
  }
}

function resolveObject(
  name: string,
  node: TreeNode,
  env: Env,
  out: Reporter
): ObjectInfo | undefined {
  const object = env.schema.object(name);
  if (!object && isCustomObjectName(name))
    out.add(
      node,
      'soql-field',
      `the query reads ${name}, which the project does not define: it does not compile`
    );
  return object;
}

function checkSosl(sosl: TreeNode, env: Env, out: Reporter): void {
  for (const spec of descendants(sosl)) {
    if (!is(spec, 'FieldSpecContext')) continue;
    const objectId = kid(spec, 'SoslIdContext');
    if (!objectId) continue;
    const object = resolveObject(objectId.getText(), objectId, env, out);
    if (!object) continue;
    for (const list of descendants(spec)) {
      if (!is(list, 'FieldListContext')) continue;
      for (const field of kidsNamed(list, 'SoslIdContext'))
        checkFieldPath(field, object, new Set(), env, out);
    }
    for (const node of descendants(spec))
      if (is(node, 'FieldNameContext')) checkFieldPath(node, object, new Set(), env, out);
  }
}

// ---------------------------------------------------------------------------------------------------------
// expressions

interface Local {
  type: string;
  declarations: number;
  final: boolean;
  initialised: boolean;
  node: TreeNode;
}

/** The static type of an expression when it is certain from the expression alone (or a local's declaration). */
function expressionType(
  expr: TreeNode | undefined,
  locals: Map<string, Local>
): string | undefined {
  if (!expr) return undefined;
  if (is(expr, 'PrimaryExpressionContext')) {
    const primary = kids(expr)[0];
    if (is(primary, 'LiteralPrimaryContext')) {
      const literal = kids(kid(primary, 'LiteralContext'))[0]?.symbol;
      const text = kid(primary, 'LiteralContext')?.getText() ?? '';
      if (!literal) return undefined;
      if (/^null$/i.test(text)) return 'null';
      if (/^(true|false)$/i.test(text)) return 'boolean';
      if (/^'/.test(text)) return 'string';
      if (/^\d+[lL]$/.test(text)) return 'long';
      if (/^\d+$/.test(text)) return 'integer';
      if (/^[\d.]+[dD]?$/.test(text)) return 'decimal';
      return undefined;
    }
    if (is(primary, 'SoqlPrimaryContext')) {
      const query = kid(kid(primary, 'SoqlLiteralContext'), 'QueryContext');
      return query ? queryShape(query).rows : undefined;
    }
    if (is(primary, 'IdPrimaryContext')) {
      const local = locals.get(primary!.getText().toLowerCase());
      return local && local.declarations === 1 ? local.type : undefined;
    }
    return undefined;
  }
  if (is(expr, 'CastExpressionContext'))
    return normaliseType(kid(expr, 'TypeRefContext')?.getText() ?? '');
  if (is(expr, 'SubExpressionContext')) return expressionType(exprOf(expr), locals);
  if (is(expr, 'NewExpressionContext')) {
    const creator = kid(expr, 'CreatorContext');
    const created = kid(creator, 'CreatedNameContext');
    if (!created) return undefined;
    if (kid(creator, 'ArrayCreatorRestContext')) return undefined;
    const text = normaliseType(created.getText());
    if (/^(list|set|map)</.test(text) || !/[<>]/.test(text)) return text;
    return undefined;
  }
  return undefined;
}

/** True when query rows fit neither as a list nor as the single row (`Account a = [SELECT …]`). */
function queryAssignable(rows: string, declared: string, env: Env): boolean {
  const single = listElement(rows);
  return (
    assignable(rows, declared, env) === 'error' &&
    (!single || assignable(single, declared, env) === 'error')
  );
}

// ---------------------------------------------------------------------------------------------------------
// bodies

function isTrueCondition(par: TreeNode | undefined): boolean {
  return !!par && /^\(true\)$/i.test(par.getText());
}

/** True when a `break` inside `loop` leaves `loop` itself (not a loop nested in it). */
function hasOwnBreak(loop: TreeNode): boolean {
  const nestedLoop = (n: TreeNode): boolean =>
    is(n, 'WhileStatementContext') ||
    is(n, 'ForStatementContext') ||
    is(n, 'DoWhileStatementContext');
  for (const node of walkUntil(loop, nestedLoop))
    if (is(node, 'BreakStatementContext')) return true;
  return false;
}

/** Whether execution can fall off the end of a statement (lenient: true whenever unsure). */
export function canComplete(node: TreeNode | undefined): boolean {
  if (!node) return true;
  if (is(node, 'BlockContext')) return kidsNamed(node, 'StatementContext').every(canComplete);
  if (is(node, 'StatementContext')) return canComplete(kids(node)[0]);
  if (is(node, 'ReturnStatementContext') || is(node, 'ThrowStatementContext')) return false;
  if (is(node, 'IfStatementContext')) {
    const branches = kidsNamed(node, 'StatementContext');
    return branches.length < 2 || branches.some(canComplete);
  }
  if (is(node, 'SwitchStatementContext')) {
    const whens = kidsNamed(node, 'WhenControlContext');
    const hasElse = whens.some((w) => /^else$/i.test(kid(w, 'WhenValueContext')?.getText() ?? ''));
    return !hasElse || whens.some((w) => canComplete(kid(w, 'BlockContext')));
  }
  if (is(node, 'TryStatementContext')) {
    const fin = kid(node, 'FinallyBlockContext');
    if (fin && !canComplete(kid(fin, 'BlockContext'))) return false;
    return (
      canComplete(kid(node, 'BlockContext')) ||
      kidsNamed(node, 'CatchClauseContext').some((c) => canComplete(kid(c, 'BlockContext')))
    );
  }
  if (is(node, 'WhileStatementContext') || is(node, 'DoWhileStatementContext'))
    return !isTrueCondition(kid(node, 'ParExpressionContext')) || hasOwnBreak(node);
  if (is(node, 'ForStatementContext')) {
    const control = kid(node, 'ForControlContext');
    const endless = !!control && !kid(control, 'EnhancedForControlContext') && !exprOf(control);
    return !endless || hasOwnBreak(node);
  }
  return true;
}

interface Body {
  /** Normalised declared type; `void` for methods without a value, constructors, setters and triggers. */
  returns: string;
  kind: 'method' | 'getter' | 'setter' | 'constructor' | 'initializer' | 'trigger';
  isStatic: boolean;
  node: TreeNode;
  params: TreeNode[];
  block: TreeNode | undefined;
  name: string;
}

interface FieldDecl {
  name: string;
  final: boolean;
  initialised: boolean;
  isStatic: boolean;
}

function modifierWords(node: TreeNode): Set<string> {
  return new Set(kidsNamed(node, 'ModifierContext').map((m) => m.getText().toLowerCase()));
}

function collectLocals(body: Body): Map<string, Local> {
  const locals = new Map<string, Local>();
  const add = (
    name: string,
    type: string,
    node: TreeNode,
    final: boolean,
    initialised: boolean
  ): void => {
    const key = name.toLowerCase();
    const existing = locals.get(key);
    if (existing) existing.declarations++;
    else locals.set(key, { type: normaliseType(type), declarations: 1, final, initialised, node });
  };
  for (const param of body.params) {
    const id = kid(param, 'IdContext');
    if (id) add(id.getText(), kid(param, 'TypeRefContext')?.getText() ?? '', id, false, true);
  }
  if (!body.block) return locals;
  for (const node of descendants(body.block)) {
    if (is(node, 'LocalVariableDeclarationContext')) {
      const type = kid(node, 'TypeRefContext')?.getText() ?? '';
      const final = modifierWords(node).has('final');
      for (const declarator of kidsNamed(
        kid(node, 'VariableDeclaratorsContext'),
        'VariableDeclaratorContext'
      )) {
        const id = kid(declarator, 'IdContext');
        if (id) add(id.getText(), type, id, final, !!exprOf(declarator));
      }
    } else if (is(node, 'EnhancedForControlContext')) {
      const id = kid(node, 'IdContext');
      if (id) add(id.getText(), kid(node, 'TypeRefContext')?.getText() ?? '', id, false, true);
    } else if (is(node, 'CatchClauseContext')) {
      const id = kid(node, 'IdContext');
      if (id)
        add(id.getText(), kid(node, 'QualifiedNameContext')?.getText() ?? '', id, false, true);
    }
  }
  return locals;
}

/** The simple name an assignment or ++/-- writes to: `x` or `this.x`; undefined for anything else. */
function assignedName(
  target: TreeNode | undefined
): { name: string; viaThis: boolean } | undefined {
  if (!target) return undefined;
  if (is(target, 'PrimaryExpressionContext') && is(kids(target)[0], 'IdPrimaryContext'))
    return { name: target.getText(), viaThis: false };
  if (is(target, 'DotExpressionContext')) {
    const [left, , right] = kids(target);
    if (left && /^this$/i.test(left.getText()) && right && is(right, 'AnyIdContext'))
      return { name: right.getText(), viaThis: true };
  }
  return undefined;
}

function writesIn(block: TreeNode): { node: TreeNode; name: string; viaThis: boolean }[] {
  const out: { node: TreeNode; name: string; viaThis: boolean }[] = [];
  for (const node of descendants(block)) {
    let target: TreeNode | undefined;
    if (is(node, 'AssignExpressionContext')) target = kids(node)[0];
    else if (
      (is(node, 'PreOpExpressionContext') || is(node, 'PostOpExpressionContext')) &&
      /(\+\+|--)/.test(
        kids(node)
          .map((k) => (k.symbol ? k.getText() : ''))
          .join('')
      )
    )
      target = kid(node, 'PrimaryExpressionContext') ?? kid(node, 'DotExpressionContext');
    const written = assignedName(target);
    if (written) out.push({ node, ...written });
  }
  return out;
}

function checkBody(body: Body, fields: FieldDecl[], env: Env, out: Reporter): void {
  const locals = collectLocals(body);
  const block = body.block;
  if (!block) return;

  // missing return
  if (
    body.returns !== 'void' &&
    (body.kind === 'method' || body.kind === 'getter') &&
    canComplete(block)
  ) {
    out.add(
      body.node,
      'missing-return',
      `${body.kind === 'getter' ? 'the getter of' : 'method'} ${body.name} returns ${display(body.returns)}, but a path reaches the end without a return: add the missing return (or throw)`
    );
  }

  // returns
  for (const node of descendants(block)) {
    if (!is(node, 'ReturnStatementContext')) continue;
    const value = exprOf(node);
    if (body.returns === 'void') {
      if (value)
        out.add(
          node,
          'return-type',
          `${body.kind === 'constructor' ? 'a constructor' : `${body.name} is void and`} cannot return a value: remove it or declare a return type`
        );
      continue;
    }
    if (!value) {
      out.add(
        node,
        'return-type',
        `${body.name} must return ${display(body.returns)}: 'return;' without a value does not compile`
      );
      continue;
    }
    const type = expressionType(value, locals);
    if (!type) continue;
    const isQuery = /^\[/.test(value.getText());
    if (
      isQuery
        ? queryAssignable(type, body.returns, env)
        : assignable(type, body.returns, env) === 'error'
    )
      out.add(
        value,
        isQuery ? 'soql-assignment' : 'return-type',
        `${body.name} returns ${display(body.returns)}, but this value is ${display(type)}: change the value or the declared type`
      );
  }

  // declarations and for loops fed by queries
  for (const node of descendants(block)) {
    if (is(node, 'LocalVariableDeclarationContext')) {
      const declared = normaliseType(kid(node, 'TypeRefContext')?.getText() ?? '');
      for (const declarator of kidsNamed(
        kid(node, 'VariableDeclaratorsContext'),
        'VariableDeclaratorContext'
      )) {
        const value = exprOf(declarator);
        if (!value || !/^\[/.test(value.getText())) continue;
        const rows = expressionType(value, locals);
        if (!rows) continue;
        if (queryAssignable(rows, declared, env))
          out.add(
            value,
            'soql-assignment',
            `the query returns ${display(rows)}, which cannot be assigned to ${display(declared)}`
          );
      }
    } else if (is(node, 'EnhancedForControlContext')) {
      const declared = normaliseType(kid(node, 'TypeRefContext')?.getText() ?? '');
      const value = exprOf(node);
      if (!value || !/^\[/.test(value.getText())) continue;
      const rows = expressionType(value, locals);
      const element = rows ? listElement(rows) : undefined;
      if (!rows || !element) continue;
      // a SOQL for loop iterates rows, or lists of 200 rows
      if (
        assignable(element, declared, env) === 'error' &&
        assignable(rows, declared, env) === 'error'
      )
        out.add(
          value,
          'soql-assignment',
          `the loop variable is ${display(declared)}, but the query returns ${display(element)} rows`
        );
    }
  }

  // final locals
  const writes = writesIn(block);
  for (const write of writes) {
    if (write.viaThis) continue;
    const local = locals.get(write.name.toLowerCase());
    if (local?.final && local.initialised && local.declarations === 1)
      out.add(
        write.node,
        'final-reassigned',
        `${write.name} is final and already has a value: it cannot be assigned again`
      );
  }
  // final fields
  for (const write of writes) {
    const field = fields.find((f) => f.name.toLowerCase() === write.name.toLowerCase());
    if (!field?.final) continue;
    if (!write.viaThis && locals.has(write.name.toLowerCase())) continue; // a local or parameter shadows it
    const inConstruction =
      (body.kind === 'constructor' && !field.isStatic) ||
      (body.kind === 'initializer' && body.isStatic === field.isStatic);
    if (field.initialised || !inConstruction)
      out.add(
        write.node,
        'final-reassigned',
        field.initialised
          ? `the final field ${field.name} is initialised where it is declared: it cannot be assigned again`
          : `the final field ${field.name} can only be assigned in ${field.isStatic ? 'a static initializer' : 'a constructor or an initializer block'}`
      );
  }
}

function bodiesOfType(declaration: TreeNode, env: Env, out: Reporter): void {
  const body = kids(declaration).find((c) => is(c, 'ClassBodyContext'));
  const fields: FieldDecl[] = [];
  const members: { entry: TreeNode; member: TreeNode | undefined; words: Set<string> }[] = [];
  for (const entry of kidsNamed(body, 'ClassBodyDeclarationContext')) {
    const member = kids(kid(entry, 'MemberDeclarationContext'))[0];
    const words = modifierWords(entry);
    members.push({ entry, member, words });
    if (is(member, 'FieldDeclarationContext')) {
      for (const declarator of kidsNamed(
        kid(member, 'VariableDeclaratorsContext'),
        'VariableDeclaratorContext'
      )) {
        const id = kid(declarator, 'IdContext');
        if (id)
          fields.push({
            name: id.getText(),
            final: words.has('final'),
            initialised: !!exprOf(declarator),
            isStatic: words.has('static')
          });
      }
    }
  }
  for (const { entry, member, words } of members) {
    const isStatic = words.has('static');
    if (!member && kid(entry, 'BlockContext')) {
      const block = kid(entry, 'BlockContext');
      checkBody(
        {
          returns: 'void',
          kind: 'initializer',
          isStatic: !!kids(entry).find((k) => k.symbol && /^static$/i.test(k.getText())),
          node: entry,
          params: [],
          block,
          name: 'initializer'
        },
        fields,
        env,
        out
      );
      continue;
    }
    if (!member) continue;
    const params = (m: TreeNode): TreeNode[] =>
      kidsNamed(
        kid(kid(m, 'FormalParametersContext'), 'FormalParameterListContext'),
        'FormalParameterContext'
      );
    if (is(member, 'MethodDeclarationContext')) {
      const typeRef = kid(member, 'TypeRefContext');
      checkBody(
        {
          returns: typeRef ? normaliseType(typeRef.getText()) : 'void',
          kind: 'method',
          isStatic,
          node: kid(member, 'IdContext') ?? member,
          params: params(member),
          block: kid(member, 'BlockContext'),
          name: kid(member, 'IdContext')?.getText() ?? '?'
        },
        fields,
        env,
        out
      );
    } else if (is(member, 'ConstructorDeclarationContext')) {
      checkBody(
        {
          returns: 'void',
          kind: 'constructor',
          isStatic: false,
          node: member,
          params: params(member),
          block: kid(member, 'BlockContext'),
          name: 'constructor'
        },
        fields,
        env,
        out
      );
    } else if (is(member, 'PropertyDeclarationContext')) {
      const type = normaliseType(kid(member, 'TypeRefContext')?.getText() ?? '');
      const name = kid(member, 'IdContext')?.getText() ?? '?';
      for (const block of kidsNamed(member, 'PropertyBlockContext')) {
        const getter = kid(block, 'GetterContext');
        const setter = kid(block, 'SetterContext');
        if (getter && kid(getter, 'BlockContext'))
          checkBody(
            {
              returns: type,
              kind: 'getter',
              isStatic,
              node: getter,
              params: [],
              block: kid(getter, 'BlockContext'),
              name
            },
            fields,
            env,
            out
          );
        if (setter && kid(setter, 'BlockContext'))
          checkBody(
            {
              returns: 'void',
              kind: 'setter',
              isStatic,
              node: setter,
              params: [],
              block: kid(setter, 'BlockContext'),
              name
            },
            fields,
            env,
            out
          );
      }
    } else if (is(member, 'ClassDeclarationContext')) {
      bodiesOfType(member, env, out);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// platform constructors

function checkConstructors(tree: TreeNode, env: Env, out: Reporter): void {
  for (const node of descendants(tree)) {
    if (!is(node, 'NewExpressionContext')) continue;
    const creator = kid(node, 'CreatorContext');
    const rest = kid(creator, 'ClassCreatorRestContext');
    const created = kid(creator, 'CreatedNameContext');
    if (!rest || !created) continue;
    const pairs = kidsNamed(created, 'IdCreatedNamePairContext');
    if (pairs.length === 0 || pairs.length > 2 || pairs.some((p) => kid(p, 'TypeListContext')))
      continue;
    const names = pairs.map((p) => p.getText());
    if (names.some((n) => env.projectTypes.has(n.toLowerCase()))) continue;
    const key = names.length === 1 ? `System.${names[0]}` : `${names[0]}.${names[1]}`;
    const entry = Object.entries(env.constructors).find(
      ([k]) => k.toLowerCase() === key.toLowerCase()
    );
    if (!entry) continue;
    const [className, signatures] = entry;
    const argNodes = kids(kid(kid(rest, 'ArgumentsContext'), 'ExpressionListContext')).filter(
      (k) => !k.symbol
    );
    const argTypes = argNodes.map((a) => expressionType(a, new Map()));
    const fits = signatures.some(
      (params) =>
        params.length === argNodes.length &&
        params.every((param, i) => {
          const argType = argTypes[i];
          if (!argType) return true;
          const target = normaliseType(param);
          // parameter types that are not simple (Object, interfaces, SObjects): only literals are judged
          return assignable(argType, target, env) !== 'error';
        })
    );
    if (fits) continue;
    const shown = signatures
      .map((p) => `${className.replace(/^System\./, '')}(${p.join(', ')})`)
      .join(', ');
    out.add(
      node,
      'constructor-args',
      `no constructor of ${className.replace(/^System\./, '')} takes (${argTypes.map((t) => (t ? display(t) : '…')).join(', ')}); it has ${shown}`
    );
  }
}

// ---------------------------------------------------------------------------------------------------------

export function apexTypeFindings(files: ApexFile[], env: Env): Finding[] {
  const findings: Finding[] = [];
  for (const file of files) {
    const out = new Reporter(file.file);
    for (const node of descendants(file.tree)) {
      if (is(node, 'SoqlLiteralContext')) {
        const query = kid(node, 'QueryContext');
        const from = query ? fromObject(query) : undefined;
        if (query && from)
          checkQuery(query, resolveObject(from.name, from.node, env, out), env, out);
      } else if (is(node, 'SoslLiteralContext') || is(node, 'SoslLiteralAltContext')) {
        checkSosl(node, env, out);
      }
    }
    if (file.kind === 'trigger') {
      const block = descendants(file.tree);
      for (const node of block) {
        if (!is(node, 'TriggerBlockContext')) continue;
        checkBody(
          {
            returns: 'void',
            kind: 'trigger',
            isStatic: false,
            node,
            params: [],
            block: node,
            name: 'trigger'
          },
          [],
          env,
          out
        );
      }
    } else {
      for (const node of descendants(file.tree)) {
        if (is(node, 'ClassDeclarationContext') && !is(node.parentCtx, 'MemberDeclarationContext'))
          bodiesOfType(node, env, out);
      }
    }
    checkConstructors(file.tree, env, out);
    findings.push(...out.findings);
  }
  return findings;
}

export function checkApexTypes(root: string): Promise<CheckResult> {
  return timed('apex-types', root, async (notes) => {
    const allFiles = packageFiles(root, () => true);
    const apexFiles = allFiles.filter((f) => f.endsWith('.cls') || f.endsWith('.trigger'));
    const parsed = apexFiles.map((f) => readApexFile(f)).filter((f): f is ApexFile => !!f);
    const env: Env = {
      root,
      schema: new Schema(root, allFiles),
      projectTypes: declaredTypeNames(parsed),
      constructors: platform().constructors
    };
    const findings = apexTypeFindings(parsed, env);
    const skipped = apexFiles.length - parsed.length;
    notes.push(
      `${parsed.length} Apex file(s) checked${skipped ? ` (${skipped} with syntax errors left to apex-syntax)` : ''} against ${path.basename(platform().source)} and the project's objects`
    );
    return { findings };
  });
}

if (require.main === module) runCli(checkApexTypes);
