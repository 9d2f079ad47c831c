/**
 * JSON Schema of every Metadata API type, generated from `@salesforce/types` (`lib/metadata.d.ts`, the
 * TypeScript rendering of the Metadata API WSDL) with ts-json-schema-generator, cached under `.cache/`
 * keyed by the package version, and compiled per type with ajv on demand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { GATE_ROOT, packageDir, packageVersion } from './project';
import type { XmlElement } from './xml';

/** Bump when the post-processing below changes, so stale caches are not reused. */
const SCHEMA_REVISION = 2;

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  definitions?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  $ref?: string;
  [key: string]: unknown;
}

export function schemaCacheFile(): string {
  const version = packageVersion('@salesforce/types');
  return path.join(
    GATE_ROOT,
    '.cache',
    `metadata-schema-salesforce-types-${version}-r${SCHEMA_REVISION}.json`
  );
}

function isArraySchema(schema: JsonSchema | undefined): boolean {
  if (!schema) return false;
  if (schema.type === 'array') return true;
  return (schema.anyOf ?? []).some((s) => s.type === 'array');
}

/**
 * The generated types mark every array property as required (the WSDL says minOccurs=0 but the generator
 * of @salesforce/types drops that for arrays): `summaryFilterItems` would be required on every CustomField.
 * Required arrays are therefore made optional; required scalars stay required.
 */
export function relaxRequiredArrays(schema: JsonSchema): JsonSchema {
  for (const definition of Object.values(schema.definitions ?? {})) {
    if (definition.required && definition.properties) {
      const properties = definition.properties;
      definition.required = definition.required.filter((name) => !isArraySchema(properties[name]));
      if (definition.required.length === 0) delete definition.required;
    }
  }
  return schema;
}

/**
 * Enum values a deploy accepts that the WSDL behind @salesforce/types does not list. Each one is documented
 * in the Metadata API Developer Guide and used in public projects; nothing else is added.
 * - ExternalDataSourceType: the Salesforce Connect adapters OData (2.0), OData4 (4.0) and SfdcOrg
 *   (cross-org). The generated enum lists only org-internal types (Identity, SimpleURL, Wrapper, …).
 */
export const ENUM_SUPPLEMENTS: Record<string, string[]> = {
  ExternalDataSourceType: ['OData', 'OData4', 'SfdcOrg']
};

export function supplementEnums(schema: JsonSchema): JsonSchema {
  for (const [name, values] of Object.entries(ENUM_SUPPLEMENTS)) {
    const definition = schema.definitions?.[name];
    if (!definition || !Array.isArray(definition.enum)) {
      throw new Error(`enum ${name} not found in the generated metadata schema`);
    }
    const current = definition.enum as string[];
    definition.enum = [...current, ...values.filter((v) => !current.includes(v))];
  }
  return schema;
}

export function generateMetadataSchema(): JsonSchema {
  const generator = createGenerator({
    path: path.join(packageDir('@salesforce/types'), 'lib', 'metadata.d.ts'),
    type: '*',
    expose: 'export',
    topRef: false,
    additionalProperties: false,
    skipTypeCheck: true,
    jsDoc: 'none'
  });
  return supplementEnums(relaxRequiredArrays(generator.createSchema('*') as JsonSchema));
}

/** Loads the cached schema, generating (~4 s) and caching it when missing or unreadable. */
export function loadMetadataSchema(): JsonSchema {
  const file = schemaCacheFile();
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSchema;
    if (cached.definitions && Object.keys(cached.definitions).length > 1000) return cached;
  } catch {
    // not cached yet, or a broken cache file: regenerate
  }
  const schema = generateMetadataSchema();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(schema));
  fs.renameSync(temp, file); // atomic: parallel runs never read a half-written cache
  return schema;
}

/** String-typed elements whose source form is nested XML that the Metadata API takes as opaque content. */
export const OPAQUE_XML_ELEMENTS = new Set(['targetConfigs']);

/** Per-type validators over one shared schema. */
export class MetadataValidators {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction | null>();
  private readonly definitions: Set<string>;
  private readonly schema: JsonSchema;

  constructor(schema: JsonSchema = loadMetadataSchema()) {
    this.schema = schema;
    // coerceTypes 'array': a single XML element becomes a one-item array, "true" a boolean, "12" a number
    this.ajv = new Ajv({
      coerceTypes: 'array',
      allErrors: true,
      strict: false,
      allowUnionTypes: true,
      // the generated schema marks Date fields `format: date-time`; ajv ships no format checks, and XML dates are
      // not JSON date-times anyway: ignore formats instead of printing a warning per field
      validateFormats: false
    });
    this.ajv.addSchema(schema, 'metadata');
    this.definitions = new Set(Object.keys(schema.definitions ?? {}));
  }

  has(typeName: string): boolean {
    return this.definitions.has(typeName);
  }

  validator(typeName: string): ValidateFunction | null {
    if (!this.cache.has(typeName)) {
      this.cache.set(
        typeName,
        this.has(typeName)
          ? (this.ajv.getSchema(`metadata#/definitions/${typeName}`) ?? null)
          : null
      );
    }
    return this.cache.get(typeName) ?? null;
  }

  /**
   * Converts an element to JSON in the shape its schema expects: children whose property is an array become
   * arrays even when they occur once (ajv's `coerceTypes: 'array'` wraps scalars only, not objects).
   */
  shape(typeName: string, element: XmlElement): unknown {
    return this.shapeAs(element, this.definition(typeName));
  }

  private definition(name: string): JsonSchema | undefined {
    return this.schema.definitions?.[name];
  }

  private deref(schema: JsonSchema | undefined): JsonSchema | undefined {
    let current = schema;
    for (let i = 0; current?.$ref && i < 20; i++) {
      current = this.definition(current.$ref.replace('#/definitions/', ''));
    }
    if (current?.anyOf)
      return this.deref(current.anyOf.find((s) => s.type === 'object' || s.$ref)) ?? current;
    return current;
  }

  private shapeAs(element: XmlElement, schema: JsonSchema | undefined): unknown {
    if (element.children.length === 0) return element.text.trim();
    const resolved = this.deref(schema);
    // The WSDL types a few elements as plain strings although their source form is nested XML
    // (LightningComponentBundle `targetConfigs`): the API takes them as opaque content, so do we. Only
    // those listed: nested XML in any other string element is a type error a deploy would reject.
    if (resolved?.type === 'string' && OPAQUE_XML_ELEMENTS.has(element.name))
      return element.text.trim();
    const out: Record<string, unknown> = {};
    const names = [...new Set(element.children.map((c) => c.name))];
    for (const name of names) {
      const children = element.children.filter((c) => c.name === name);
      const property = this.deref(resolved?.properties?.[name]);
      if (property?.type === 'array') {
        const items = property.items as JsonSchema | undefined;
        out[name] = children.map((c) => this.shapeAs(c, items));
      } else {
        const values = children.map((c) => this.shapeAs(c, property));
        out[name] = values.length === 1 ? values[0] : values;
      }
    }
    return out;
  }
}
