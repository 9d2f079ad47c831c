/**
 * An External Object against the OData `$metadata` it was synced from. Salesforce Connect reads `$metadata` only on
 * "Validate and Sync"; after that the object's field XML is what the org uses, so a property renamed in the producer
 * or a field mapping edited in the XML breaks the org silently. These checks compare the two the way a sync would
 * have made them.
 *
 * Edm → field type rules (OData 4.0 adapter): Salesforce Help, "OData 4.0 and 4.01 Type Mapping"
 * (platform.odata_type_mapping_v4.htm), summarised in /work/shared/platform-facts.md (Salesforce Connect row).
 */
import { parse as parseEdmx } from '@sap-ux/edmx-parser';
import {
  escapeRegExp,
  lineOf,
  type DriftFinding,
  type Location,
  type SourceText
} from './findings';
import type { CustomFieldMetadata, CustomObjectMetadata } from './object-metadata';

export interface ODataProperty {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number;
  /** Line of the `<Property>` in the `$metadata` text. */
  readonly line: number;
}

export interface ODataEntitySet {
  readonly name: string;
  readonly entityType: string;
  readonly keys: readonly string[];
  readonly properties: readonly ODataProperty[];
}

/** The parts of @sap-ux/edmx-parser's result read here (its types package is not a dependency). */
interface ParsedModel {
  schema: {
    entitySets: { name: string; entityTypeName: string }[];
    entityTypes: {
      name: string;
      fullyQualifiedName: string;
      keys: { name: string }[];
      entityProperties: {
        name: string;
        type: string;
        nullable?: boolean;
        maxLength?: number;
        precision?: number;
        scale?: number;
      }[];
    }[];
  };
}

/** Reads the entity sets of a CSDL document with an independent parser; lines come from the text itself. */
export function readODataMetadata(source: SourceText): ODataEntitySet[] {
  const model = parseEdmx(source.text) as unknown as ParsedModel;
  return model.schema.entitySets.map((set) => {
    const type = model.schema.entityTypes.find(
      (t) => t.fullyQualifiedName === set.entityTypeName || t.name === set.entityTypeName
    );
    if (!type) throw new Error(`${source.file}: entity set ${set.name} has no entity type`);
    const typeStart = source.text.search(
      new RegExp(`<EntityType\\s+Name="${escapeRegExp(type.name)}"`)
    );
    return {
      name: set.name,
      entityType: type.name,
      keys: type.keys.map((k) => k.name),
      properties: type.entityProperties.map((p) => ({
        name: p.name,
        type: p.type,
        nullable: p.nullable ?? true,
        maxLength: p.maxLength,
        precision: p.precision,
        scale: p.scale,
        line:
          lineOf(
            source.text,
            new RegExp(`<Property\\s+Name="${escapeRegExp(p.name)}"`),
            Math.max(typeStart, 0)
          ) ?? 1
      }))
    };
  });
}

const NUMBER_TYPES = new Set([
  'Edm.Byte',
  'Edm.SByte',
  'Edm.Int16',
  'Edm.Int32',
  'Edm.Int64',
  'Edm.Single',
  'Edm.Double',
  'Edm.Decimal'
]);
const INTEGER_TYPES = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64']);
/** Longest text Salesforce Connect maps to a Text field; longer strings become LongTextArea. */
export const MAX_TEXT_LENGTH = 255;
/** Text length Salesforce Connect uses when a string property declares no MaxLength. */
export const DEFAULT_TEXT_LENGTH = 128;

/**
 * The field types a sync makes from an Edm type, plus the types an admin may turn a synced text field into
 * (indirect and external lookups match on the text value). Undefined: Salesforce Connect does not support the type.
 */
export function salesforceTypesFor(property: ODataProperty): readonly string[] | undefined {
  if (property.type === 'Edm.String') {
    return (property.maxLength ?? DEFAULT_TEXT_LENGTH) > MAX_TEXT_LENGTH
      ? ['LongTextArea']
      : ['Text', 'IndirectLookup', 'ExternalLookup'];
  }
  if (property.type === 'Edm.Boolean') return ['Checkbox'];
  if (NUMBER_TYPES.has(property.type)) return ['Number'];
  if (property.type === 'Edm.DateTimeOffset' || property.type === 'Edm.Date') return ['DateTime'];
  if (property.type === 'Edm.Guid') return ['Text'];
  if (property.type === 'Edm.Binary') return ['TextArea'];
  return undefined;
}

export interface ExternalObjectCheckOptions {
  /** Where the producer defines a property (e.g. its line in `entity.ts`); the `$metadata` line when undefined. */
  readonly producerLocation?: (propertyName: string) => Location | undefined;
  /** Properties deliberately left without a field, with the reason. */
  readonly unmapped?: Readonly<Record<string, string>>;
  /** How findings name the `$metadata` side, e.g. `served $metadata (GET /data-virtualization/odata/$metadata)`. */
  readonly metadataLabel: string;
}

/**
 * Every field of the External Object against the entity set it maps to: the set exists, each
 * `externalDeveloperName` is a property, each property has a field (or is listed in `unmapped`), and type, length,
 * precision and scale are what a sync would make.
 */
export function compareExternalObject(
  object: CustomObjectMetadata,
  metadata: SourceText,
  options: ExternalObjectCheckOptions
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const sets = readODataMetadata(metadata);
  const setName = object.externalName.value;
  const set = sets.find((s) => s.name === setName);
  const metadataAt = (line: number): Location => ({ file: metadata.file, line });
  const producerAt = (property: ODataProperty): Location =>
    options.producerLocation?.(property.name) ?? metadataAt(property.line);
  if (!set) {
    return [
      {
        at: { file: object.file, line: object.externalName.line },
        message: `externalName '${setName ?? ''}' is not an entity set of the producer (it has: ${sets.map((s) => s.name).join(', ')})`,
        other: options.metadataLabel
      }
    ];
  }
  if (set.keys.length === 0) {
    findings.push({
      at: metadataAt(1),
      message: `entity type ${set.entityType} declares no <Key>: Salesforce Connect needs one for the External ID`,
      other: { file: object.file, line: object.externalName.line }
    });
  }
  const byName = new Map(set.properties.map((p) => [p.name, p]));
  const mapped = new Set<string>();
  for (const field of object.fields) {
    const external = field.externalDeveloperName.value;
    const fieldAt = (line: number): Location => ({ file: field.file, line });
    if (!external) {
      findings.push({
        at: fieldAt(field.fullNameLine),
        message: `${object.name}.${field.fullName} has no externalDeveloperName, so it maps to nothing in ${set.name}`,
        other: options.metadataLabel
      });
      continue;
    }
    const property = byName.get(external);
    if (!property) {
      const loose = set.properties.find((p) => p.name.toLowerCase() === external.toLowerCase());
      findings.push({
        at: fieldAt(field.externalDeveloperName.line),
        message: loose
          ? `${object.name}.${field.fullName} maps to '${external}', but the producer's property is '${loose.name}' (OData names are case-sensitive)`
          : `${object.name}.${field.fullName} maps to '${external}', which is not a property of ${set.name}`,
        other: loose ? producerAt(loose) : options.metadataLabel
      });
      continue;
    }
    mapped.add(property.name);
    findings.push(...compareField(object, field, property, producerAt(property)));
  }
  for (const property of set.properties) {
    if (mapped.has(property.name) || options.unmapped?.[property.name] !== undefined) continue;
    findings.push({
      at: producerAt(property),
      message: `property ${set.name}.${property.name} has no field on ${object.name} (no externalDeveloperName '${property.name}'); add the field or list it as deliberately unmapped`,
      other: `${object.file.replace(/\/[^/]+$/, '')}/fields/`
    });
  }
  for (const name of Object.keys(options.unmapped ?? {})) {
    if (!byName.has(name)) {
      findings.push({
        at: metadataAt(1),
        message: `'${name}' is listed as deliberately unmapped but ${set.name} has no such property`,
        other: object.file
      });
    }
  }
  return findings;
}

function compareField(
  object: CustomObjectMetadata,
  field: CustomFieldMetadata,
  property: ODataProperty,
  producer: Location
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const name = `${object.name}.${field.fullName}`;
  const at = (line: number): Location => ({ file: field.file, line });
  const facts = `${property.name} is ${property.type}${facetText(property)}`;
  const allowed = salesforceTypesFor(property);
  const type = field.type.value ?? '';
  if (!allowed) {
    findings.push({
      at: producer,
      message: `${property.type} (property ${property.name}) is not a type Salesforce Connect maps`,
      other: at(field.type.line)
    });
    return findings;
  }
  if (!allowed.includes(type)) {
    findings.push({
      at: at(field.type.line),
      message: `${name} is ${type}, but ${facts}, which Salesforce Connect maps to ${allowed.join(' or ')}`,
      other: producer
    });
    return findings;
  }
  const number = (value: XmlNumber): number | undefined =>
    value.value === undefined ? undefined : Number(value.value);
  if (property.type === 'Edm.String' || property.type === 'Edm.Guid') {
    const expected =
      property.type === 'Edm.Guid' ? 36 : (property.maxLength ?? DEFAULT_TEXT_LENGTH);
    const length = number(field.length);
    if (length !== expected) {
      findings.push({
        at: at(field.length.line),
        message: `${name} has length ${length ?? 'none'}, but ${facts}: a sync makes length ${expected}`,
        other: producer
      });
    }
  }
  if (property.type === 'Edm.Decimal' && property.precision !== undefined) {
    const precision = number(field.precision);
    if (precision !== property.precision) {
      findings.push({
        at: at(field.precision.line),
        message: `${name} has precision ${precision ?? 'none'}, but ${facts}`,
        other: producer
      });
    }
  }
  if (property.type === 'Edm.Decimal' && property.scale !== undefined) {
    const scale = number(field.scale);
    if (scale !== property.scale) {
      findings.push({
        at: at(field.scale.line),
        message: `${name} has scale ${scale ?? 'none'}, but ${facts}`,
        other: producer
      });
    }
  }
  if (INTEGER_TYPES.has(property.type) && number(field.scale) !== 0) {
    findings.push({
      at: at(field.scale.line),
      message: `${name} has scale ${field.scale.value ?? 'none'}, but ${facts} (an integer): the scale must be 0`,
      other: producer
    });
  }
  if (field.required.value === 'true' && property.nullable) {
    findings.push({
      at: at(field.required.line),
      message: `${name} is required, but ${property.name} is nullable in the producer`,
      other: producer
    });
  }
  return findings;
}

type XmlNumber = CustomFieldMetadata['length'];

function facetText(property: ODataProperty): string {
  const facets = [
    property.maxLength === undefined ? '' : `MaxLength=${property.maxLength}`,
    property.precision === undefined ? '' : `Precision=${property.precision}`,
    property.scale === undefined ? '' : `Scale=${property.scale}`
  ].filter(Boolean);
  return facets.length > 0 ? ` (${facets.join(', ')})` : '';
}
