/**
 * A static reading of an LWC bundle for the drift checks: the property paths its JavaScript and template read
 * (`readiness.stock.lines`, `{row.field}`), the string values it gives named properties (`fieldName: 'status'` in
 * datatable columns, `sortedBy = 'shippedAt'`) and template attributes (`key-field="shipmentNumber"`), each with its
 * line; then those paths resolved against the Apex classes the component renders.
 *
 * It reads what is written, not what runs: a path is found when it is written as a chain rooted at a name the check
 * binds to an Apex type (`credit.decision`, `this.readiness.stock`), through local aliases (`const r = this.x`) and
 * array callbacks (`x.lines.map((line) => line.productCode)`).
 */
import ts from 'typescript';
import { findField, parseApexType, type ApexClass, type ApexType } from './apex';
import { apexClassAt, resolveApexClass, type ApexModel } from './contract';
import {
  escapeRegExp,
  lineAt,
  type DriftFinding,
  type Location,
  type SourceText
} from './findings';

/** A property path as written, e.g. `this.readiness.stock.lines[].productCode` → root `this.readiness`. */
export interface MemberPath extends Location {
  /** Segments; `[]` stands for "an element of" (array callbacks, template iterations). */
  readonly segments: readonly string[];
}

export function formatPath(segments: readonly string[]): string {
  return segments.join('.').replace(/\.\[\]/g, '[]');
}

const ARRAY_CALLBACK_METHODS = new Set([
  'map',
  'forEach',
  'filter',
  'find',
  'some',
  'every',
  'flatMap',
  'findIndex'
]);

/** Chains of property reads in a component's JavaScript (`a.b.c`, `this.a.b`), with aliases followed. */
export function jsMemberPaths(source: SourceText): MemberPath[] {
  const file = ts.createSourceFile(
    source.file,
    source.text,
    ts.ScriptTarget.ES2022,
    true,
    ts.ScriptKind.JS
  );
  const paths: MemberPath[] = [];
  const scopes: Map<string, readonly string[]>[] = [new Map()];
  const alias = (name: string): readonly string[] | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const found = scopes[i]!.get(name);
      if (found) return found;
    }
    return undefined;
  };
  /** `a.b?.c` → ['a','b','c'] with aliases expanded; undefined when not a plain chain. */
  const chainOf = (node: ts.Node): string[] | undefined => {
    if (ts.isIdentifier(node)) return [...(alias(node.text) ?? [node.text])];
    if (node.kind === ts.SyntaxKind.ThisKeyword) return ['this'];
    if (ts.isPropertyAccessExpression(node)) {
      const base = chainOf(node.expression);
      return base ? [...base, node.name.text] : undefined;
    }
    if (ts.isElementAccessExpression(node) && ts.isNumericLiteral(node.argumentExpression)) {
      const base = chainOf(node.expression);
      return base ? [...base, '[]'] : undefined;
    }
    if (ts.isParenthesizedExpression(node) || ts.isAwaitExpression(node)) {
      return chainOf(node.expression);
    }
    return undefined;
  };
  const lineOf = (node: ts.Node): number =>
    file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      !(ts.isPropertyAccessExpression(node.parent) && node.parent.expression === node)
    ) {
      const chain = chainOf(node);
      if (chain && chain.length > 1) {
        paths.push({ segments: chain, file: source.file, line: lineOf(node) });
      }
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const chain = chainOf(node.initializer);
      if (chain && chain.length > 1) scopes[scopes.length - 1]!.set(node.name.text, chain);
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ARRAY_CALLBACK_METHODS.has(node.expression.name.text)
    ) {
      const list = chainOf(node.expression.expression);
      const callback = node.arguments[0];
      if (list && callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) {
        const parameter = callback.parameters[0];
        visit(node.expression);
        node.arguments.slice(1).forEach(visit);
        scopes.push(
          new Map(
            parameter && ts.isIdentifier(parameter.name)
              ? [[parameter.name.text, [...list, '[]']]]
              : []
          )
        );
        visit(callback.body);
        scopes.pop();
        return;
      }
    }
    if (ts.isFunctionLike(node)) {
      scopes.push(new Map());
      ts.forEachChild(node, visit);
      scopes.pop();
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return paths;
}

export interface JsStringValue extends Location {
  readonly value: string;
  /** The other literal members of the same object (e.g. `sortable: true` beside `fieldName`). */
  readonly siblings: Readonly<Record<string, string | boolean | number>>;
}

/**
 * String values given to a property name in a component's JavaScript: object members (`fieldName: 'status'`) and
 * class fields (`sortedBy = 'shippedAt'`).
 */
export function jsStringProperties(source: SourceText, propertyName: string): JsStringValue[] {
  const file = ts.createSourceFile(
    source.file,
    source.text,
    ts.ScriptTarget.ES2022,
    true,
    ts.ScriptKind.JS
  );
  const found: JsStringValue[] = [];
  const literal = (node: ts.Expression): string | boolean | number | undefined => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    if (ts.isNumericLiteral(node)) return Number(node.text);
    if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
    return undefined;
  };
  const nameOf = (name: ts.PropertyName): string | undefined =>
    ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
  const visit = (node: ts.Node): void => {
    if (
      (ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node)) &&
      nameOf(node.name) === propertyName &&
      node.initializer
    ) {
      const value = literal(node.initializer);
      if (typeof value === 'string') {
        const siblings: Record<string, string | boolean | number> = {};
        if (ts.isObjectLiteralExpression(node.parent)) {
          for (const member of node.parent.properties) {
            if (!ts.isPropertyAssignment(member)) continue;
            const key = nameOf(member.name);
            const memberValue = literal(member.initializer);
            if (key !== undefined && memberValue !== undefined) siblings[key] = memberValue;
          }
        }
        found.push({
          value,
          siblings,
          file: source.file,
          line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/**
 * Property paths in a template's `{...}` bindings, with `for:each`/`for:item` and `iterator:` aliases expanded
 * (`for:each={rows} for:item="row"` makes `{row.status}` the path `rows[].status`).
 */
export function templateMemberPaths(source: SourceText): MemberPath[] {
  const items = new Map<string, string[]>();
  const iterators = new Map<string, string[]>();
  for (const match of source.text.matchAll(/<[a-z][^>]*>/gis)) {
    const text = match[0];
    const list = /for:each=\{([\w.]+)\}/.exec(text)?.[1];
    const item = /for:item="(\w+)"/.exec(text)?.[1];
    if (list && item) items.set(item, [...list.split('.'), '[]']);
    const iterator = /iterator:(\w+)=\{([\w.]+)\}/.exec(text);
    if (iterator?.[1] && iterator[2]) iterators.set(iterator[1], [...iterator[2].split('.'), '[]']);
  }
  const paths: MemberPath[] = [];
  for (const match of source.text.matchAll(/\{([\w.]+)\}/g)) {
    const [root = '', ...rest] = (match[1] ?? '').split('.');
    const iterated = iterators.get(root);
    const segments =
      iterated && rest[0] === 'value'
        ? [...iterated, ...rest.slice(1)]
        : [...(items.get(root) ?? [root]), ...rest];
    if (segments.length > 1) {
      paths.push({ segments, file: source.file, line: lineAt(source.text, match.index ?? 0) });
    }
  }
  return paths;
}

/** Literal values of a template attribute (`key-field="shipmentNumber"`), with lines. */
export function templateAttributeValues(
  source: SourceText,
  attribute: string
): (Location & { value: string })[] {
  const pattern = new RegExp(`\\s${escapeRegExp(attribute)}="([^"]*)"`, 'g');
  return [...source.text.matchAll(pattern)].map((m) => ({
    value: m[1] ?? '',
    file: source.file,
    line: lineAt(source.text, m.index ?? 0)
  }));
}

/** A path root (as written, `[]` included) bound to the Apex class it holds, e.g. `this.readiness` → OrderReadiness. */
export type PathBindings = Readonly<Record<string, string>>;

const LIST_MEMBERS = new Set(['length', ...ARRAY_CALLBACK_METHODS, 'slice', 'includes', 'join']);

/**
 * Resolves each path that starts with a bound root against the Apex class tree: every segment after the root
 * must be a field (exact case: `@AuraEnabled` serialises the declared name). Paths with unbound roots are not
 * the check's business and are skipped.
 */
export function comparePathsToApex(
  paths: readonly MemberPath[],
  bindings: PathBindings,
  model: ApexModel
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const roots = Object.keys(bindings).sort((a, b) => b.length - a.length);
  for (const path of paths) {
    const text = formatPath(path.segments);
    const root = roots.find(
      (r) => text === r || text.startsWith(`${r}.`) || text.startsWith(`${r}[]`)
    );
    if (!root) continue;
    const rootClass = resolveApexClass(model, bindings[root]!);
    if (!rootClass) {
      throw new Error(`binding ${root} → ${bindings[root]}: no such Apex class in the check`);
    }
    const rest = path.segments.slice(formatPathLength(path.segments, root));
    let type: ApexType = { kind: 'class', name: rootClass.qualifiedName };
    let owner: ApexClass = rootClass;
    for (const [index, segment] of rest.entries()) {
      if (type.kind === 'list') {
        if (segment === '[]') {
          type = type.element;
          continue;
        }
        if (LIST_MEMBERS.has(segment)) break;
      }
      if (type.kind !== 'class') break;
      const cls = resolveApexClass(model, type.name, owner);
      if (!cls) break;
      owner = cls;
      const found = findField(cls, segment);
      if (!found || found.caseOnly) {
        findings.push({
          at: { file: path.file, line: path.line },
          message: `${text} reads '${segment}', which ${cls.qualifiedName} does not declare${found ? ` (it declares '${found.field.name}': @AuraEnabled keeps the declared case)` : ''}`,
          other: found ? { file: found.field.file, line: found.field.line } : apexClassAt(cls)
        });
        break;
      }
      type = parseApexType(found.field.type);
      if (index === rest.length - 1) break;
    }
  }
  return findings;
}

/** How many segments of `segments` the bound root `root` (formatted) covers. */
function formatPathLength(segments: readonly string[], root: string): number {
  for (let i = 1; i <= segments.length; i++) {
    if (formatPath(segments.slice(0, i)) === root) return i;
  }
  return segments.length;
}

/** Names given as plain strings (column `fieldName`s, `key-field`) that must be fields of one Apex class. */
export function compareNamesToApex(
  names: readonly (Location & { value: string; what: string })[],
  className: string,
  model: ApexModel
): DriftFinding[] {
  const cls = resolveApexClass(model, className);
  if (!cls) throw new Error(`no Apex class ${className} in the check`);
  return names.flatMap((name) => {
    const found = findField(cls, name.value);
    if (found && !found.caseOnly) return [];
    return [
      {
        at: { file: name.file, line: name.line },
        message: `${name.what} '${name.value}' is not a field of ${cls.qualifiedName}${found ? ` (it declares '${found.field.name}')` : ''}`,
        other: found ? { file: found.field.file, line: found.field.line } : apexClassAt(cls)
      }
    ];
  });
}
