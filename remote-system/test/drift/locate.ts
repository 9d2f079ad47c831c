/**
 * Lines for names found by value: a key path in a JSON file (exact, through the TypeScript JSON parser) and a
 * property in TypeScript source (the object literal whose keys best match, so a schema is found whatever it is
 * called or however it is built: a plain JSON Schema object or a TypeBox `Type.Object({...})`).
 */
import ts from 'typescript';
import type { Location, SourceText } from './findings';

export type JsonPath = readonly (string | number)[];

/** `$.examples.creditApproved.body.lines[0].productCode` */
export function formatJsonPath(path: JsonPath): string {
  return path.reduce<string>(
    (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : `${text}.${segment}`),
    '$'
  );
}

function lineOfNode(file: ts.SourceFile, node: ts.Node): number {
  return file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
}

function propertyKey(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) {
    return name.text;
  }
  return undefined;
}

/** Line of the value (or, for an object member, of its key) at a JSON path; the nearest ancestor's when absent. */
export function jsonLocator(source: SourceText): (path: JsonPath) => Location {
  const file = ts.parseJsonText(source.file, source.text);
  const root = file.statements[0]?.expression;
  return (path) => {
    let node: ts.Node | undefined = root;
    let line = root ? lineOfNode(file, root) : 1;
    for (const segment of path) {
      if (!node) break;
      if (typeof segment === 'number' && ts.isArrayLiteralExpression(node)) {
        node = node.elements[segment];
      } else if (typeof segment === 'string' && ts.isObjectLiteralExpression(node)) {
        const member = node.properties.find(
          (p): p is ts.PropertyAssignment =>
            ts.isPropertyAssignment(p) && propertyKey(p.name) === segment
        );
        if (member) line = lineOfNode(file, member);
        node = member?.initializer;
        continue;
      } else {
        node = undefined;
      }
      if (node) line = lineOfNode(file, node);
    }
    return { file: source.file, line };
  };
}

interface Literal {
  readonly file: ts.SourceFile;
  readonly source: SourceText;
  readonly node: ts.ObjectLiteralExpression;
  readonly keys: ReadonlyMap<string, ts.Node>;
}

/**
 * Finds where an object's property is declared in TypeScript: the object literal (in any of `sources`) whose keys
 * overlap most with `siblingKeys` (the keys of the object as it exists at run time), then the key's line, or the
 * literal's line when the key is not in it. Undefined when no literal shares at least half the keys.
 */
export function objectLiteralLocator(
  sources: readonly SourceText[]
): (siblingKeys: readonly string[], key: string) => Location | undefined {
  const literals: Literal[] = [];
  for (const source of sources) {
    const file = ts.createSourceFile(source.file, source.text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isObjectLiteralExpression(node)) {
        const keys = new Map<string, ts.Node>();
        for (const member of node.properties) {
          const name =
            ts.isPropertyAssignment(member) || ts.isShorthandPropertyAssignment(member)
              ? propertyKey(member.name)
              : undefined;
          if (name !== undefined) keys.set(name, member);
        }
        literals.push({ file, source, node, keys });
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return (siblingKeys, key) => {
    let best: Literal | undefined;
    let bestScore = 0;
    for (const literal of literals) {
      const shared = siblingKeys.filter((k) => literal.keys.has(k)).length;
      const score = shared / Math.max(siblingKeys.length, literal.keys.size);
      if (shared * 2 >= siblingKeys.length && score > bestScore) {
        best = literal;
        bestScore = score;
      }
    }
    if (!best) return undefined;
    const member = best.keys.get(key);
    return { file: best.source.file, line: lineOfNode(best.file, member ?? best.node) };
  };
}
