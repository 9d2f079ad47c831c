/**
 * Reading custom object and custom field metadata (`*.object-meta.xml`, `fields/*.field-meta.xml`) for the drift
 * checks: the elements that cross the boundary (`externalName`, `externalDeveloperName`, type, length, precision,
 * scale), each with the line it is on.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { REPO_ROOT, escapeRegExp, lineOf, readSource, type SourceText } from './findings';

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** One element's text and line (1-based; the root's line when the element is absent). */
export interface XmlValue {
  readonly value: string | undefined;
  readonly line: number;
}

export interface CustomFieldMetadata {
  readonly file: string;
  /** API name without the object: `Carrier__c`. */
  readonly fullName: string;
  readonly type: XmlValue;
  readonly externalDeveloperName: XmlValue;
  readonly length: XmlValue;
  readonly precision: XmlValue;
  readonly scale: XmlValue;
  readonly required: XmlValue;
  readonly fullNameLine: number;
}

export interface CustomObjectMetadata {
  readonly file: string;
  /** `Shipment__x` (the folder name). */
  readonly name: string;
  /** For an External Object: the table (entity set) it maps to. */
  readonly externalName: XmlValue;
  readonly fields: readonly CustomFieldMetadata[];
}

function element(source: SourceText, root: Record<string, unknown>, name: string): XmlValue {
  const raw = root[name];
  const value = raw === undefined || raw === null ? undefined : String(raw as string | number);
  const line = lineOf(source.text, new RegExp(`<${escapeRegExp(name)}[\\s>]`)) ?? 1;
  return { value, line };
}

/** Reads one `.field-meta.xml` (from disk, or a mutated copy in a test). */
export function readCustomField(source: SourceText): CustomFieldMetadata {
  const document = parser.parse(source.text) as { CustomField?: Record<string, unknown> };
  const root = document.CustomField;
  if (!root) throw new Error(`${source.file}:1 has no <CustomField> root`);
  const fullName = element(source, root, 'fullName');
  if (!fullName.value) throw new Error(`${source.file}:1 has no <fullName>`);
  return {
    file: source.file,
    fullName: fullName.value,
    fullNameLine: fullName.line,
    type: element(source, root, 'type'),
    externalDeveloperName: element(source, root, 'externalDeveloperName'),
    length: element(source, root, 'length'),
    precision: element(source, root, 'precision'),
    scale: element(source, root, 'scale'),
    required: element(source, root, 'required')
  };
}

/**
 * Reads an object folder (`force-app/main/<id>/objects/<Object>`): the object file and every field file.
 * `replace` swaps in the text of some files (by repository-relative path), so a test can feed a mutated copy.
 */
export function readCustomObject(
  objectFolder: string,
  replace: Readonly<Record<string, string>> = {}
): CustomObjectMetadata {
  const name = path.basename(objectFolder);
  const load = (relative: string): SourceText =>
    replace[relative] === undefined
      ? readSource(relative)
      : { file: relative, text: replace[relative] };
  const objectSource = load(`${objectFolder}/${name}.object-meta.xml`);
  const document = parser.parse(objectSource.text) as { CustomObject?: Record<string, unknown> };
  const root = document.CustomObject;
  if (!root) throw new Error(`${objectSource.file}:1 has no <CustomObject> root`);
  const fieldFolder = `${objectFolder}/fields`;
  const fields = readdirSync(path.join(REPO_ROOT, fieldFolder))
    .filter((f) => f.endsWith('.field-meta.xml'))
    .sort()
    .map((f) => readCustomField(load(`${fieldFolder}/${f}`)));
  return {
    file: objectSource.file,
    name,
    externalName: element(objectSource, root, 'externalName'),
    fields
  };
}

/** The field with this API name (case-insensitive, as Salesforce compares them). */
export function fieldNamed(
  object: CustomObjectMetadata,
  apiName: string
): CustomFieldMetadata | undefined {
  return object.fields.find((f) => f.fullName.toLowerCase() === apiName.toLowerCase());
}
