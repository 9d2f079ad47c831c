/**
 * The SObject schema a deploy would see: the standard objects apexlink knows (see platform.ts) merged with the
 * project's own objects and fields (`objects/<Object>/…` in any package directory, parts of one object spread over
 * several folders merged as a deploy merges them). Used to resolve `@salesforce/schema/…` imports and the
 * fields of SOQL queries.
 *
 * "Unknown" is only claimed where it is certain: a custom (`__c`, `__e`, `__mdt`, `__x`) object or field the
 * project does not define, or a field of a standard object that neither the platform data nor the project has.
 * Objects the platform data does not know (newer than API 55, change events of custom objects, history and
 * share objects) resolve to `undefined`, and callers then check nothing about them.
 */
import * as path from 'node:path';
import { platform } from './platform';
import { packageFiles, readText } from './project';
import { readXml, type XmlElement } from './xml';

export interface FieldInfo {
  name: string;
  /** Apex-ish type: `String`, `Id`, `ref:<Object>`, `children:<Object>`, or the CustomField `<type>`. */
  type: string;
  /** Project fields: the file that defines it. */
  file?: string;
}

export interface ObjectInfo {
  name: string;
  origin: 'standard' | 'project';
  /** Lower-case field name → field (relationship names such as `Owner` or `Parent__r` included). */
  fields: Map<string, FieldInfo>;
  /** Project objects: the folders that define parts of it. */
  folders: string[];
}

/** A custom object name of the project's own namespace: `X__c`, `X__e`, `X__mdt`, `X__x`, `X__b`. */
export function isCustomObjectName(name: string): boolean {
  return /^[A-Za-z]\w*__(c|e|mdt|x|b)$/.test(name) && name.split('__').length === 2;
}

/** A custom field name without a namespace (`X__c`), or its relationship form (`X__r`). */
export function isCustomFieldName(name: string): boolean {
  return /^[A-Za-z]\w*__(c|r)$/.test(name) && name.split('__').length === 2;
}

/** Standard fields every object of a kind has (Metadata API and SOAP API reference, "System Fields"). */
const SYSTEM_FIELDS: Record<string, [string, string][]> = {
  c: [
    ['Id', 'Id'],
    ['Name', 'String'],
    ['OwnerId', 'Id'],
    ['Owner', 'ref:Name'],
    ['CreatedDate', 'Datetime'],
    ['CreatedById', 'Id'],
    ['CreatedBy', 'ref:User'],
    ['LastModifiedDate', 'Datetime'],
    ['LastModifiedById', 'Id'],
    ['LastModifiedBy', 'ref:User'],
    ['SystemModstamp', 'Datetime'],
    ['IsDeleted', 'Boolean'],
    ['LastViewedDate', 'Datetime'],
    ['LastReferencedDate', 'Datetime'],
    ['LastActivityDate', 'Date'],
    ['RecordTypeId', 'Id'],
    ['RecordType', 'ref:RecordType'],
    ['CurrencyIsoCode', 'String'],
    ['SetupOwnerId', 'Id'],
    ['SetupOwner', 'ref:Name']
  ],
  e: [
    ['ReplayId', 'String'],
    ['CreatedDate', 'Datetime'],
    ['CreatedById', 'Id'],
    ['CreatedBy', 'ref:User'],
    ['EventUuid', 'String']
  ],
  mdt: [
    ['Id', 'Id'],
    ['DeveloperName', 'String'],
    ['MasterLabel', 'String'],
    ['Label', 'String'],
    ['Language', 'String'],
    ['NamespacePrefix', 'String'],
    ['QualifiedApiName', 'String'],
    ['SystemModstamp', 'Datetime']
  ],
  x: [
    ['Id', 'Id'],
    ['ExternalId', 'String'],
    ['DisplayUrl', 'String']
  ],
  b: [
    ['Id', 'Id'],
    ['CreatedDate', 'Datetime'],
    ['CreatedById', 'Id'],
    ['SystemModstamp', 'Datetime']
  ]
};

function child(element: XmlElement, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text.trim();
}

export class Schema {
  private readonly objects = new Map<string, ObjectInfo>();

  /** `files`: the project's metadata files to read objects from (all package files when omitted). */
  constructor(
    readonly root: string,
    files?: string[]
  ) {
    for (const object of platform().objects) {
      const fields = new Map<string, FieldInfo>();
      for (const field of object.fields) fields.set(field.name.toLowerCase(), field);
      this.objects.set(object.name.toLowerCase(), {
        name: object.name,
        origin: 'standard',
        fields,
        folders: []
      });
    }
    const objectFiles = (files ?? packageFiles(root, () => true)).filter((f) =>
      /[\\/]objects[\\/][^\\/]+[\\/]([^\\/]+\.object-meta\.xml|fields[\\/][^\\/]+\.field-meta\.xml)$/.test(
        f
      )
    );
    const lookups: { object: string; relationship: string; target: string }[] = [];
    for (const file of objectFiles) {
      const isField = file.endsWith('.field-meta.xml');
      const folder = isField ? path.dirname(path.dirname(file)) : path.dirname(file);
      const objectName = path.basename(folder);
      const info = this.ensureProjectObject(objectName, folder);
      if (!isField) continue;
      const fieldName = path.basename(file, '.field-meta.xml');
      const text = readText(file);
      let type = 'Unknown';
      if (!(text instanceof Error)) {
        try {
          const tree = readXml(text);
          type = child(tree, 'type') ?? 'Unknown';
          const referenceTo = child(tree, 'referenceTo');
          const relationshipName = child(tree, 'relationshipName');
          if (referenceTo && /Lookup|MasterDetail|Hierarchy/.test(type)) {
            const relationship = `${fieldName.replace(/__c$/i, '')}__r`;
            info.fields.set(relationship.toLowerCase(), {
              name: relationship,
              type: `ref:${referenceTo}`,
              file
            });
            if (relationshipName)
              lookups.push({
                object: objectName,
                relationship: `${relationshipName}__r`,
                target: referenceTo
              });
          }
        } catch {
          // malformed XML: the metadata check reports it
        }
      }
      info.fields.set(fieldName.toLowerCase(), { name: fieldName, type, file });
    }
    for (const lookup of lookups) {
      const parent = this.objects.get(lookup.target.toLowerCase());
      parent?.fields.set(lookup.relationship.toLowerCase(), {
        name: lookup.relationship,
        type: `children:${lookup.object}`
      });
    }
  }

  private ensureProjectObject(name: string, folder: string): ObjectInfo {
    const existing = this.objects.get(name.toLowerCase());
    if (existing) {
      if (!existing.folders.includes(folder)) existing.folders.push(folder);
      return existing;
    }
    const fields = new Map<string, FieldInfo>();
    const kind = /__(\w+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
    for (const [fieldName, type] of SYSTEM_FIELDS[kind] ?? [])
      fields.set(fieldName.toLowerCase(), { name: fieldName, type });
    const info: ObjectInfo = { name, origin: 'project', fields, folders: [folder] };
    this.objects.set(name.toLowerCase(), info);
    return info;
  }

  object(name: string): ObjectInfo | undefined {
    return this.objects.get(name.toLowerCase());
  }

  /** True when the schema can say that a field of this object does not exist. */
  knowsAllFieldsOf(object: ObjectInfo): boolean {
    return object.origin === 'standard' || isCustomObjectName(object.name);
  }

  /**
   * Resolves a dotted field path (`Name`, `Owner.Name`, `Parent__r.Status__c`) from an object. Returns the field,
   * or the first segment that does not exist (with the object it was looked up on), or `unknown` when the path
   * leaves what the schema knows (a polymorphic or newer object).
   */
  resolvePath(
    object: ObjectInfo,
    segments: string[]
  ):
    | { kind: 'field'; field: FieldInfo; object: ObjectInfo }
    | { kind: 'missing'; segment: string; index: number; object: ObjectInfo }
    | { kind: 'unknown' } {
    let current = object;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const field = current.fields.get(segment.toLowerCase());
      if (!field) {
        if (!this.knowsAllFieldsOf(current)) return { kind: 'unknown' };
        // a namespaced field (ns__Field__c) belongs to an installed package: not ours to judge
        if (segment.split('__').length > 2) return { kind: 'unknown' };
        return { kind: 'missing', segment, index: i, object: current };
      }
      if (i === segments.length - 1) return { kind: 'field', field, object: current };
      const target = /^ref:(\w+)$/.exec(field.type)?.[1];
      const next = target ? this.object(target) : undefined;
      // `Name` is the platform's polymorphic stand-in (Owner, What, Who): its fields are a subset
      if (!next || target === 'Name') return { kind: 'unknown' };
      current = next;
    }
    return { kind: 'unknown' };
  }
}
