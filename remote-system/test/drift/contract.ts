/**
 * JSON that crosses the boundary against the Apex classes that read it: a contract example's keys (recursively,
 * with paths) against an Apex class tree, and a JSON Schema (a route's reply or request schema) against the same
 * tree. Both directions are checked: a key Apex does not declare breaks `JSON.deserializeStrict`, and a field Apex
 * declares that the other side never sends stays null.
 *
 * Apex cannot name a field with a reserved word (`currency`, `date`, `number`, ...): such a key needs an explicit
 * rename (`renames`: JSON key → Apex field), which is checked too (the key must be reserved, the field must exist).
 */
import {
  APEX_RESERVED_WORDS,
  findField,
  parseApexType,
  serializedFields,
  type ApexClass,
  type ApexClassFile,
  type ApexField,
  type ApexType
} from './apex';
import { formatLocation, type DriftFinding, type Location } from './findings';
import { formatJsonPath, type JsonPath } from './locate';

/** The Apex classes a check may resolve type names in (the class's own file first). */
export interface ApexModel {
  readonly files: readonly ApexClassFile[];
}

export function resolveApexClass(
  model: ApexModel,
  name: string,
  from?: ApexClass
): ApexClass | undefined {
  const own = from ? model.files.find((f) => f.file === from.file) : undefined;
  return own?.find(name) ?? model.files.map((f) => f.find(name)).find(Boolean);
}

export function apexClassAt(cls: ApexClass): Location {
  return { file: cls.file, line: cls.line };
}

function fieldAt(field: ApexField): Location {
  return { file: field.file, line: field.line };
}

/** JSON key → Apex field name, for keys Apex reserves. */
export type Renames = Readonly<Record<string, string>>;

function apexNameFor(key: string, renames: Renames): string {
  return renames[key] ?? key;
}

function jsonKeyFor(field: string, renames: Renames): string {
  return Object.entries(renames).find(([, apex]) => apex === field)?.[0] ?? field;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function typeName(type: ApexType): string {
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'list':
      return `List<${typeName(type.element)}>`;
    case 'map':
      return `Map<String,${typeName(type.value)}>`;
    case 'class':
      return type.name;
  }
}

/** Whether a JSON value of this kind deserialises into the Apex type (values, not just kinds, for numbers). */
function jsonFits(value: unknown, type: ApexType): boolean {
  if (value === null) return true;
  if (type.kind === 'primitive' && type.name === 'object') return true;
  if (Array.isArray(value)) return type.kind === 'list';
  if (typeof value === 'object') return type.kind === 'class' || type.kind === 'map';
  if (type.kind !== 'primitive') return false;
  if (typeof value === 'string') {
    return ['string', 'id', 'date', 'datetime', 'time', 'blob'].includes(type.name);
  }
  if (typeof value === 'boolean') return type.name === 'boolean';
  if (typeof value === 'number') {
    if (['decimal', 'double'].includes(type.name)) return true;
    return ['integer', 'long'].includes(type.name) && Number.isInteger(value);
  }
  return false;
}

export interface ExampleCheckOptions {
  /** Where the example lives, for findings: maps a path inside the example to its line. */
  readonly locate: (path: JsonPath) => Location;
  /** Path of the example inside its file (e.g. `['examples', 'creditApproved', 'body']`). */
  readonly basePath: JsonPath;
  readonly renames?: Renames;
}

/**
 * A contract example against an Apex class: every key is a field with a fitting type (recursively, every array
 * element), every field appears in the example, and reserved-word keys go through an explicit rename.
 */
export function compareExampleToApex(
  example: unknown,
  cls: ApexClass,
  model: ApexModel,
  options: ExampleCheckOptions
): DriftFinding[] {
  const renames = options.renames ?? {};
  const findings: DriftFinding[] = [];
  const walk = (value: unknown, type: ApexType, path: JsonPath, owner: ApexClass): void => {
    if (value === null) return;
    if (type.kind === 'list' && Array.isArray(value)) {
      value.forEach((item, index) => walk(item, type.element, [...path, index], owner));
      return;
    }
    if (type.kind === 'map' && value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value))
        walk(item, type.value, [...path, key], owner);
      return;
    }
    if (type.kind === 'class' && value && typeof value === 'object' && !Array.isArray(value)) {
      const target = resolveApexClass(model, type.name, owner);
      if (!target) {
        findings.push({
          at: options.locate(path),
          message: `${formatJsonPath(path)} is read as ${type.name}, which no Apex class in the check declares`,
          other: apexClassAt(owner)
        });
        return;
      }
      compareObject(value as Record<string, unknown>, target, path);
    }
  };
  const compareObject = (
    object: Record<string, unknown>,
    target: ApexClass,
    path: JsonPath
  ): void => {
    for (const [key, value] of Object.entries(object)) {
      const keyPath = [...path, key];
      const at = options.locate(keyPath);
      if (APEX_RESERVED_WORDS.has(key.toLowerCase()) && renames[key] === undefined) {
        findings.push({
          at,
          message: `${formatJsonPath(keyPath)}: '${key}' is an Apex reserved word and cannot be a field of ${target.qualifiedName}; add an explicit rename`,
          other: apexClassAt(target)
        });
        continue;
      }
      const apexName = apexNameFor(key, renames);
      const found = findField(target, apexName);
      if (!found) {
        findings.push({
          at,
          message: `${formatJsonPath(keyPath)} has no field '${apexName}' in ${target.qualifiedName}`,
          other: apexClassAt(target)
        });
        continue;
      }
      if (found.caseOnly) {
        findings.push({
          at: fieldAt(found.field),
          message: `${target.qualifiedName}.${found.field.name} differs in case from the contract key '${key}'`,
          other: at
        });
      }
      const type = parseApexType(found.field.type);
      if (!jsonFits(value, type)) {
        findings.push({
          at: fieldAt(found.field),
          message: `${target.qualifiedName}.${found.field.name} is ${typeName(type)}, but ${formatJsonPath(keyPath)} is ${describe(value)} (${JSON.stringify(value)})`,
          other: at
        });
        continue;
      }
      walk(value, type, keyPath, target);
    }
    for (const field of serializedFields(target)) {
      const key = jsonKeyFor(field.name, renames);
      if (!Object.keys(object).some((k) => k.toLowerCase() === key.toLowerCase())) {
        findings.push({
          at: fieldAt(field),
          message: `${target.qualifiedName}.${field.name} is not in the contract example at ${formatJsonPath([...path, key])}`,
          other: options.locate(path)
        });
      }
    }
  };
  walk(example, { kind: 'class', name: cls.qualifiedName }, options.basePath, cls);
  findings.push(...checkRenames(renames, [cls], model));
  return findings;
}

/** Each rename is needed (its key is reserved) and points at a field that exists. */
export function checkRenames(
  renames: Renames,
  classes: readonly ApexClass[],
  model: ApexModel
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const all = (cls: ApexClass): ApexClass[] => [
    cls,
    ...cls.innerClasses.flatMap(all),
    ...serializedFields(cls).flatMap((f) => {
      const inner = innermostClass(parseApexType(f.type));
      const resolved = inner ? resolveApexClass(model, inner, cls) : undefined;
      return resolved && resolved !== cls ? [resolved] : [];
    })
  ];
  const reachable = classes.flatMap(all);
  for (const [key, apex] of Object.entries(renames)) {
    const owner = reachable.find((c) => findField(c, apex)?.caseOnly === false);
    const where = classes[0] ? apexClassAt(classes[0]) : { file: '(none)', line: 0 };
    if (!APEX_RESERVED_WORDS.has(key.toLowerCase())) {
      findings.push({
        at: owner ? fieldAt(findField(owner, apex)!.field) : where,
        message: `the rename '${key}' → '${apex}' is not needed: '${key}' is not an Apex reserved word`
      });
    }
    if (!owner) {
      findings.push({
        at: where,
        message: `the rename '${key}' → '${apex}' names a field no class in the check declares`
      });
    }
  }
  return findings;
}

function innermostClass(type: ApexType): string | undefined {
  if (type.kind === 'class') return type.name;
  if (type.kind === 'list') return innermostClass(type.element);
  if (type.kind === 'map') return innermostClass(type.value);
  return undefined;
}

/** The JSON Schema subset the checks read (plain objects or TypeBox schemas, which are JSON Schema). */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly $ref?: string;
}

/** The schema without a `null` alternative (`type: ['string', 'null']`, `anyOf: [X, {type: 'null'}]`). */
function nonNull(schema: JsonSchema): JsonSchema {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const rest = alternatives.filter((s) => s.type !== 'null').map(nonNull);
    if (rest.length === 1 && rest[0]) return rest[0];
    // A union of literals of one type (TypeBox `Union([Literal('A'), Literal('B')])`) is that type.
    const types = new Set(rest.map((s) => s.type));
    const [only] = types;
    if (types.size === 1 && typeof only === 'string' && rest.every((s) => !s.properties)) {
      return { type: only };
    }
  }
  if (Array.isArray(schema.type)) {
    const rest = (schema.type as string[]).filter((t) => t !== 'null');
    if (rest.length === 1) return { ...schema, type: rest[0] };
  }
  return schema;
}

function schemaFits(schema: JsonSchema, type: ApexType): boolean {
  if (type.kind === 'primitive' && type.name === 'object') return true;
  switch (schema.type) {
    case 'string':
      return (
        type.kind === 'primitive' &&
        ['string', 'id', 'date', 'datetime', 'time', 'blob'].includes(type.name)
      );
    case 'integer':
      return (
        type.kind === 'primitive' && ['integer', 'long', 'decimal', 'double'].includes(type.name)
      );
    case 'number':
      return type.kind === 'primitive' && ['decimal', 'double'].includes(type.name);
    case 'boolean':
      return type.kind === 'primitive' && type.name === 'boolean';
    case 'array':
      return type.kind === 'list';
    case 'object':
      return type.kind === 'class' || type.kind === 'map';
    default:
      return false;
  }
}

export interface SchemaCheckOptions {
  /** What findings call the schema, e.g. `reply schema of GET /request-reply/credit/:customerNumber (200)`. */
  readonly label: string;
  /** Where a schema property is declared in source (see `objectLiteralLocator`); undefined when not found. */
  readonly locate?: (siblingKeys: readonly string[], key: string) => Location | undefined;
  readonly renames?: Renames;
}

/**
 * A JSON Schema against an Apex class tree: every property is a field whose type can hold it (an Apex Integer
 * cannot hold a JSON Schema `number`), and every field is a property.
 */
export function compareSchemaToApex(
  schema: JsonSchema,
  cls: ApexClass,
  model: ApexModel,
  options: SchemaCheckOptions
): DriftFinding[] {
  const renames = options.renames ?? {};
  const findings: DriftFinding[] = [];
  const schemaSide = (path: JsonPath, siblings: readonly string[], key: string): string => {
    const location = options.locate?.(siblings, key);
    return `${options.label} ${formatJsonPath(path)}${location ? ` at ${formatLocation(location)}` : ''}`;
  };
  const visit = (raw: JsonSchema, target: ApexClass, path: JsonPath): void => {
    const schema = nonNull(raw);
    if (schema.$ref !== undefined || schema.type !== 'object' || !schema.properties) {
      findings.push({
        at: apexClassAt(target),
        message: `${target.qualifiedName} is read from ${options.label} ${formatJsonPath(path)}, which is not an object schema with properties the check can read`
      });
      return;
    }
    const properties = schema.properties;
    const siblings = Object.keys(properties);
    for (const [key, rawProperty] of Object.entries(properties)) {
      const property = nonNull(rawProperty);
      const keyPath = [...path, key];
      const located = options.locate?.(siblings, key);
      if (APEX_RESERVED_WORDS.has(key.toLowerCase()) && renames[key] === undefined) {
        findings.push({
          at: located ?? apexClassAt(target),
          message: `${options.label} ${formatJsonPath(keyPath)}: '${key}' is an Apex reserved word and cannot be a field of ${target.qualifiedName}; add an explicit rename`,
          other: apexClassAt(target)
        });
        continue;
      }
      const apexName = apexNameFor(key, renames);
      const found = findField(target, apexName);
      if (!found || found.caseOnly) {
        findings.push({
          at: located ?? apexClassAt(target),
          message: `${options.label} ${formatJsonPath(keyPath)} has no field '${apexName}' in ${target.qualifiedName}${found ? ` (only '${found.field.name}', which differs in case)` : ''}`,
          other: located ? apexClassAt(target) : undefined
        });
        continue;
      }
      const type = parseApexType(found.field.type);
      if (!schemaFits(property, type)) {
        findings.push({
          at: fieldAt(found.field),
          message: `${target.qualifiedName}.${found.field.name} is ${typeName(type)}, but ${formatJsonPath(keyPath)} is ${String(property.type ?? property.$ref ?? 'untyped')} in the schema`,
          other: schemaSide(keyPath, siblings, key)
        });
        continue;
      }
      const inner = type.kind === 'list' ? type.element : type;
      const innerSchema =
        type.kind === 'list' && property.items ? nonNull(property.items) : property;
      if (inner.kind === 'class') {
        const next = resolveApexClass(model, inner.name, target);
        if (!next) {
          findings.push({
            at: fieldAt(found.field),
            message: `${target.qualifiedName}.${found.field.name}: no Apex class ${inner.name} in the check`
          });
        } else {
          visit(innerSchema, next, type.kind === 'list' ? [...keyPath, 0] : keyPath);
        }
      }
    }
    for (const field of serializedFields(target)) {
      const key = jsonKeyFor(field.name, renames);
      if (!(key in properties)) {
        findings.push({
          at: fieldAt(field),
          message: `${target.qualifiedName}.${field.name} is not a property of ${options.label} at ${formatJsonPath(path)}`,
          other: schemaSide(path, siblings, siblings[0] ?? '')
        });
      }
    }
  };
  visit(schema, cls, []);
  findings.push(...checkRenames(renames, [cls], model));
  return findings;
}

/** Every property name anywhere in a schema (for names Apex reads one by one, e.g. `Map.get('error')`). */
export function schemaPropertyNames(schema: JsonSchema): Set<string> {
  const names = new Set<string>();
  const visit = (node: JsonSchema | undefined): void => {
    if (!node) return;
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      names.add(key);
      visit(child);
    }
    visit(node.items);
    (node.anyOf ?? []).forEach(visit);
    (node.oneOf ?? []).forEach(visit);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties);
  };
  visit(schema);
  return names;
}
