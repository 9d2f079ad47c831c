/**
 * Cross-half drift checks for Data Virtualization: every name that crosses the boundary, compared on both halves.
 *
 * | name                                   | remote half                                  | Salesforce half                                                    |
 * | -------------------------------------- | -------------------------------------------- | ------------------------------------------------------------------ |
 * | entity set, property names, Edm facets | `$metadata` served by the real server        | `Shipment__x` object + field XML (`externalName`, `externalDeveloperName`, type, length, precision, scale) |
 * | External Object field API names        | —                                            | `ShipmentSelector` SOQL strings, `ShipmentController.toRow`        |
 * | row and page field names               | —                                            | `ShipmentController.ShipmentRow`/`ShipmentPage` ↔ LWC `erpShipments` |
 * | sort keys                              | —                                            | `ShipmentSelector.SORTABLE_FIELDS` ↔ the LWC's sortable columns     |
 *
 * Each check runs on the real files (and must find nothing), then on a copy changed on one side only (and must
 * name that file and line): a check that cannot fail proves nothing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  readApexClassFile,
  apexFieldCopies,
  apexFieldLiterals,
  apexMapEntries,
  apexStringLiterals
} from '../drift/apex';
import type { ApexModel } from '../drift/contract';
import {
  REPO_ROOT,
  escapeRegExp,
  formatFindings,
  lineOf,
  readSource,
  type DriftFinding,
  type Location,
  type SourceText
} from '../drift/findings';
import {
  compareNamesToApex,
  comparePathsToApex,
  jsMemberPaths,
  jsStringProperties,
  templateAttributeValues
} from '../drift/lwc';
import { fieldNamed, readCustomObject, type CustomObjectMetadata } from '../drift/object-metadata';
import { compareExternalObject } from '../drift/odata';
import { patternModules } from '../../src/patterns';
import { auth, startServer, testConfig, type RunningServer } from '../support';

jest.setTimeout(30_000);

const SF = 'force-app/main/data-virtualization';
const OBJECT_FOLDER = `${SF}/objects/Shipment__x`;
const SELECTOR = `${SF}/classes/ShipmentSelector.cls`;
const CONTROLLER = `${SF}/classes/ShipmentController.cls`;
const LWC_JS = `${SF}/lwc/erpShipments/erpShipments.js`;
const LWC_HTML = `${SF}/lwc/erpShipments/erpShipments.html`;
/** Where the producer defines its properties: findings on the remote side point here when the name is found. */
const ENTITY = 'remote-system/src/data-virtualization/entity.ts';
const METADATA_PATH = '/data-virtualization/odata/$metadata';
const METADATA_LABEL = `served $metadata (GET ${METADATA_PATH})`;

/**
 * OData properties deliberately left without an External Object field, with the reason. Empty: every property is
 * mapped. (The key also becomes the object's standard External ID; it keeps a field of its own as the name field.)
 */
const UNMAPPED_PROPERTIES: Readonly<Record<string, string>> = {};

/** Standard fields every External Object has (not in the field XML). */
const STANDARD_FIELDS = new Set(['id', 'externalid', 'displayurl']);

/** Which Apex types can hold a value of each field type (what `row.x = shipment.Y__c` compiles to). */
const APEX_TYPES_FOR_FIELD: Readonly<Record<string, readonly string[]>> = {
  Text: ['String'],
  TextArea: ['String'],
  LongTextArea: ['String'],
  IndirectLookup: ['String'],
  ExternalLookup: ['String', 'Id'],
  Number: ['Decimal'],
  DateTime: ['Datetime'],
  Checkbox: ['Boolean']
};

interface Inputs {
  metadata: SourceText;
  entity: SourceText | undefined;
  object: CustomObjectMetadata;
  selector: SourceText;
  controller: SourceText;
  js: SourceText;
  html: SourceText;
}

function producerLocator(entity: SourceText | undefined) {
  return (property: string): Location | undefined => {
    if (!entity) return undefined;
    const line = lineOf(entity.text, new RegExp(`name:\\s*'${escapeRegExp(property)}'`));
    return line === undefined ? undefined : { file: entity.file, line };
  };
}

/** Shipment__x (object and field XML) against the served `$metadata`. */
function externalObjectAgainstMetadata(inputs: Inputs): DriftFinding[] {
  return compareExternalObject(inputs.object, inputs.metadata, {
    producerLocation: producerLocator(inputs.entity),
    unmapped: UNMAPPED_PROPERTIES,
    metadataLabel: METADATA_LABEL
  });
}

/** Every `X__c` / `X__x` name in ShipmentSelector's strings (SELECT list, sort map, search list, WHERE). */
function selectorAgainstObject(inputs: Inputs): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const objectAt: Location = { file: inputs.object.file, line: 1 };
  for (const literal of apexStringLiterals(inputs.selector)) {
    for (const match of literal.value.matchAll(/\b(\w+__[cx])\b/g)) {
      const name = match[1]!;
      if (name.endsWith('__x')) {
        if (name !== inputs.object.name) {
          findings.push({
            at: literal,
            message: `queries ${name}, but the External Object is ${inputs.object.name}`,
            other: objectAt
          });
        }
      } else if (!fieldNamed(inputs.object, name)) {
        findings.push({
          at: literal,
          message: `${inputs.object.name}.${name} is not a field of the External Object`,
          other: `${OBJECT_FOLDER}/fields/`
        });
      }
    }
  }
  for (const literal of apexFieldLiterals(inputs.selector, 'SEARCH_FIELDS')) {
    const field = fieldNamed(inputs.object, literal.value);
    const type = field?.type.value ?? '';
    if (field && !['Text', 'TextArea', 'LongTextArea', 'IndirectLookup'].includes(type)) {
      findings.push({
        at: literal,
        message: `${literal.value} is searched with LIKE (OData contains), but it is a ${type} field`,
        other: { file: field.file, line: field.type.line }
      });
    }
  }
  return findings;
}

function apexModel(inputs: Inputs): ApexModel {
  return {
    files: [readApexClassFile(inputs.controller), readApexClassFile(inputs.selector)]
  };
}

/** `ShipmentController.toRow`: each copy reads a queried field of the object into a row field that can hold it. */
function rowMappingAgainstObject(inputs: Inputs): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const model = apexModel(inputs);
  const row = model.files[0]!.find('ShipmentRow');
  if (!row) throw new Error(`${CONTROLLER} declares no ShipmentRow`);
  const selected = new Set(
    apexFieldLiterals(inputs.selector, 'SELECT_LIST')
      .map((l) => l.value)
      .join('')
      .replace(/^\s*SELECT\s+/i, '')
      .replace(/\s+FROM\s+.*$/is, '')
      .split(',')
      .map((f) => f.trim().toLowerCase())
  );
  const selectAt = apexFieldLiterals(inputs.selector, 'SELECT_LIST')[0]!;
  const copies = apexFieldCopies(inputs.controller, 'row', 'shipment');
  for (const copy of copies) {
    const field = fieldNamed(inputs.object, copy.source);
    const standard = STANDARD_FIELDS.has(copy.source.toLowerCase());
    if (!field && !standard) {
      findings.push({
        at: copy,
        message: `reads ${inputs.object.name}.${copy.source}, which is not a field of the External Object`,
        other: `${OBJECT_FOLDER}/fields/`
      });
      continue;
    }
    if (!selected.has(copy.source.toLowerCase())) {
      findings.push({
        at: copy,
        message: `reads ${copy.source}, which ShipmentSelector's SELECT_LIST does not query (SObjectException at run time)`,
        other: selectAt
      });
    }
    const target = row.fields.find((f) => f.name === copy.target);
    if (!target) {
      findings.push({
        at: copy,
        message: `writes row.${copy.target}, which ShipmentRow does not declare`,
        other: { file: row.file, line: row.line }
      });
      continue;
    }
    const allowed = field ? (APEX_TYPES_FOR_FIELD[field.type.value ?? ''] ?? []) : ['String', 'Id'];
    if (!allowed.some((t) => t.toLowerCase() === target.type.toLowerCase())) {
      findings.push({
        at: { file: target.file, line: target.line },
        message: `ShipmentRow.${target.name} is ${target.type}, but ${copy.source} is ${field?.type.value ?? 'an Id'} (Apex ${allowed.join(' or ')})`,
        other: field ? { file: field.file, line: field.type.line } : copy
      });
    }
  }
  for (const field of row.fields) {
    if (!copies.some((c) => c.target === field.name)) {
      findings.push({
        at: { file: field.file, line: field.line },
        message: `ShipmentRow.${field.name} is never filled in toRow, so the LWC always gets it empty`
      });
    }
  }
  return findings;
}

/** The LWC against the Apex it renders: columns, key field, sort keys and page fields. */
function lwcAgainstApex(inputs: Inputs): DriftFinding[] {
  const model = apexModel(inputs);
  const columns = jsStringProperties(inputs.js, 'fieldName');
  const findings = [
    ...compareNamesToApex(
      [
        ...columns.map((c) => ({ ...c, what: 'column fieldName' })),
        ...templateAttributeValues(inputs.html, 'key-field').map((k) => ({
          ...k,
          what: 'lightning-datatable key-field'
        }))
      ],
      'ShipmentController.ShipmentRow',
      model
    ),
    ...comparePathsToApex(
      jsMemberPaths(inputs.js),
      { page: 'ShipmentController.ShipmentPage' },
      model
    )
  ];
  // A sortable column's fieldName is sent back as sortBy: it must be a key of SORTABLE_FIELDS, as must the default.
  const sortKeys = apexMapEntries(inputs.selector, 'SORTABLE_FIELDS');
  const sortAt = sortKeys[0] ?? { file: inputs.selector.file, line: 1 };
  const sorted = [
    ...columns.filter((c) => c.siblings.sortable === true),
    ...jsStringProperties(inputs.js, 'sortedBy')
  ];
  for (const name of sorted) {
    if (!sortKeys.some((k) => k.key === name.value)) {
      findings.push({
        at: name,
        message: `sorts by '${name.value}', which is not a key of ShipmentSelector.SORTABLE_FIELDS (the controller rejects it)`,
        other: sortAt
      });
    }
  }
  return findings;
}

const CHECKS = {
  'Shipment__x field XML against the served $metadata': externalObjectAgainstMetadata,
  "ShipmentSelector's SOQL names against Shipment__x": selectorAgainstObject,
  'ShipmentController.toRow against Shipment__x and ShipmentRow': rowMappingAgainstObject,
  'LWC erpShipments against ShipmentRow, ShipmentPage and SORTABLE_FIELDS': lwcAgainstApex
} as const;

let server: RunningServer;
let real: Inputs;

beforeAll(async () => {
  // The real composition root with the module as `npm start` builds it, so the $metadata is what the org would read.
  const config = testConfig();
  server = await startServer({
    patterns: patternModules(config).filter((m) => m.name === 'data-virtualization')
  });
  const response = await fetch(`${server.baseUrl}${METADATA_PATH}`, { headers: auth });
  if (response.status !== 200) throw new Error(`GET ${METADATA_PATH}: HTTP ${response.status}`);
  real = {
    metadata: { file: `GET ${METADATA_PATH}`, text: await response.text() },
    entity: existsSync(path.join(REPO_ROOT, ENTITY)) ? readSource(ENTITY) : undefined,
    object: readCustomObject(OBJECT_FOLDER),
    selector: readSource(SELECTOR),
    controller: readSource(CONTROLLER),
    js: readSource(LWC_JS),
    html: readSource(LWC_HTML)
  };
});

afterAll(async () => {
  await server?.close();
});

describe('data-virtualization: the two halves agree', () => {
  it.each(Object.keys(CHECKS))('%s', (name) => {
    const check = CHECKS[name as keyof typeof CHECKS];
    expect(formatFindings(check(real))).toEqual([]);
  });

  it('reads every field of Shipment__x and every property of the producer (the checks are not vacuous)', () => {
    expect(real.object.fields.length).toBeGreaterThanOrEqual(16);
    expect(apexFieldCopies(real.controller, 'row', 'shipment').length).toBeGreaterThanOrEqual(15);
    expect(jsStringProperties(real.js, 'fieldName').length).toBeGreaterThanOrEqual(10);
    expect(jsMemberPaths(real.js).filter((p) => p.segments[0] === 'page').length).toBeGreaterThan(
      3
    );
  });
});

/** Replaces `from` (which must occur) in a text. */
function edit(text: string, from: string | RegExp, to: string): string {
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`mutation did not apply: ${String(from)}`);
  return changed;
}

function withField(file: string, from: string | RegExp, to: string): CustomObjectMetadata {
  const relative = `${OBJECT_FOLDER}/fields/${file}`;
  return readCustomObject(OBJECT_FOLDER, { [relative]: edit(readSource(relative).text, from, to) });
}

/** `fields/<file>:<line of pattern>` in the real field file (the mutations keep every line where it was). */
function fieldLine(file: string, pattern: RegExp): string {
  const relative = `${OBJECT_FOLDER}/fields/${file}`;
  return `${relative}:${lineIn(readSource(relative), pattern)}`;
}

function mutate(source: SourceText, from: string | RegExp, to: string): SourceText {
  return { file: source.file, text: edit(source.text, from, to) };
}

function lineIn(source: SourceText, pattern: RegExp): number {
  const line = lineOf(source.text, pattern);
  if (line === undefined) throw new Error(`${source.file}: ${String(pattern)} not found`);
  return line;
}

describe('data-virtualization: each check fails on a one-sided change, naming file and line', () => {
  it('an OData property renamed in the producer only', () => {
    const inputs: Inputs = {
      ...real,
      metadata: mutate(real.metadata, 'Name="Carrier"', 'Name="CarrierName"'),
      entity: real.entity && mutate(real.entity, "name: 'Carrier'", "name: 'CarrierName'")
    };
    const findings = formatFindings(externalObjectAgainstMetadata(inputs));
    const field = fieldLine('Carrier__c.field-meta.xml', /<externalDeveloperName>/);
    expect(findings).toContain(
      `${field} Shipment__x.Carrier__c maps to 'Carrier', which is not a property of Shipments (other side: ${METADATA_LABEL})`
    );
    const entityLine = inputs.entity ? lineIn(inputs.entity, /name: 'CarrierName'/) : 0;
    expect(findings).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(inputs.entity ? `${ENTITY}:${entityLine}` : `GET ${METADATA_PATH}:`)}.*property Shipments\\.CarrierName has no field on Shipment__x`
        )
      )
    );
  });

  it("an External Object field's mapping (externalDeveloperName) changed only in the XML", () => {
    const object = withField(
      'Status__c.field-meta.xml',
      '<externalDeveloperName>Status</externalDeveloperName>',
      '<externalDeveloperName>ShipmentStatus</externalDeveloperName>'
    );
    const findings = formatFindings(externalObjectAgainstMetadata({ ...real, object }));
    expect(findings).toContain(
      `${fieldLine('Status__c.field-meta.xml', /<externalDeveloperName>/)} Shipment__x.Status__c maps to 'ShipmentStatus', which is not a property of Shipments (other side: ${METADATA_LABEL})`
    );
    expect(findings.some((f) => f.includes('property Shipments.Status has no field'))).toBe(true);
  });

  it('a mapping that differs only in case (OData names are case-sensitive)', () => {
    const object = withField('Carrier__c.field-meta.xml', '>Carrier<', '>carrier<');
    expect(formatFindings(externalObjectAgainstMetadata({ ...real, object }))).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(fieldLine('Carrier__c.field-meta.xml', /<externalDeveloperName>/))} .*maps to 'carrier', but the producer's property is 'Carrier'`
        )
      )
    );
  });

  it('a text length, a precision and a type that no longer match the Edm facets', () => {
    const length = withField(
      'Status__c.field-meta.xml',
      '<length>40</length>',
      '<length>80</length>'
    );
    expect(formatFindings(externalObjectAgainstMetadata({ ...real, object: length }))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(fieldLine('Status__c.field-meta.xml', /<length>/))} Shipment__x\\.Status__c has length 80, but Status is Edm\\.String \\(MaxLength=40\\): a sync makes length 40 \\(other side: remote-system/src/data-virtualization/entity\\.ts:\\d+\\)$`
        )
      )
    ]);
    const precision = withField(
      'DeclaredValue__c.field-meta.xml',
      '<precision>18</precision>',
      '<precision>16</precision>'
    );
    expect(formatFindings(externalObjectAgainstMetadata({ ...real, object: precision }))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(fieldLine('DeclaredValue__c.field-meta.xml', /<precision>/))} .*has precision 16, but DeclaredValue is Edm\\.Decimal`
        )
      )
    ]);
    const type = withField(
      'IsInsured__c.field-meta.xml',
      '<type>Checkbox</type>',
      '<type>Text</type>'
    );
    expect(formatFindings(externalObjectAgainstMetadata({ ...real, object: type }))).toEqual([
      expect.stringContaining(
        `${fieldLine('IsInsured__c.field-meta.xml', /<type>/)} Shipment__x.IsInsured__c is Text, but IsInsured is Edm.Boolean, which Salesforce Connect maps to Checkbox`
      )
    ]);
  });

  it('an External Object field renamed while the selector still queries the old name', () => {
    const selector = mutate(real.selector, "'DestinationCity__c'", "'Destination_City__c'");
    const line = lineIn(selector, /'Destination_City__c'/);
    expect(formatFindings(selectorAgainstObject({ ...real, selector }))).toContain(
      `${SELECTOR}:${line} Shipment__x.Destination_City__c is not a field of the External Object (other side: ${OBJECT_FOLDER}/fields/)`
    );
  });

  it('a non-text field added to the search list', () => {
    const selector = mutate(
      real.selector,
      "'Carrier__c',\n    'DestinationCity__c'",
      "'Carrier__c',\n    'WeightKg__c'"
    );
    expect(formatFindings(selectorAgainstObject({ ...real, selector }))).toEqual([
      expect.stringMatching(
        /ShipmentSelector\.cls:\d+ WeightKg__c is searched with LIKE .* Number field/
      )
    ]);
  });

  it('a field read in toRow that the selector no longer queries', () => {
    const selector = mutate(real.selector, 'ServiceLevel__c, ', '');
    const line = lineIn(real.controller, /row\.serviceLevel = /);
    expect(formatFindings(rowMappingAgainstObject({ ...real, selector }))).toEqual([
      expect.stringContaining(
        `${CONTROLLER}:${line} reads ServiceLevel__c, which ShipmentSelector's SELECT_LIST does not query`
      )
    ]);
  });

  it('a row field renamed in the Apex DTO only', () => {
    const controller = mutate(
      real.controller,
      'public String carrier;',
      'public String carrierName;'
    );
    const copyLine = lineIn(controller, /row\.carrier = /);
    expect(formatFindings(rowMappingAgainstObject({ ...real, controller }))).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          `${CONTROLLER}:${copyLine} writes row.carrier, which ShipmentRow does not declare`
        ),
        expect.stringContaining('ShipmentRow.carrierName is never filled in toRow')
      ])
    );
    const columnLine = lineIn(real.js, /fieldName: 'carrier'/);
    expect(formatFindings(lwcAgainstApex({ ...real, controller }))).toContain(
      `${LWC_JS}:${columnLine} column fieldName 'carrier' is not a field of ShipmentController.ShipmentRow (other side: ${CONTROLLER}:${lineIn(controller, /public class ShipmentRow/)})`
    );
  });

  it('a row field whose Apex type cannot hold the External Object field', () => {
    const controller = mutate(
      real.controller,
      'public Decimal weightKg;',
      'public Integer weightKg;'
    );
    expect(formatFindings(rowMappingAgainstObject({ ...real, controller }))).toEqual([
      expect.stringMatching(
        /ShipmentController\.cls:\d+ ShipmentRow\.weightKg is Integer, but WeightKg__c is Number \(Apex Decimal\)/
      )
    ]);
  });

  it('an LWC column, key field, sort default or page field renamed in the component only', () => {
    const js = mutate(
      mutate(real.js, "fieldName: 'status'", "fieldName: 'shipmentStatus'"),
      'page.hasNext',
      'page.hasMore'
    );
    const html = mutate(real.html, 'key-field="shipmentNumber"', 'key-field="number"');
    const findings = formatFindings(lwcAgainstApex({ ...real, js, html }));
    const statusLine = lineIn(js, /fieldName: 'shipmentStatus'/);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          `${LWC_JS}:${statusLine} column fieldName 'shipmentStatus' is not a field of ShipmentController.ShipmentRow`
        ),
        expect.stringContaining(
          `${LWC_JS}:${statusLine} sorts by 'shipmentStatus', which is not a key of ShipmentSelector.SORTABLE_FIELDS`
        ),
        expect.stringContaining(
          `${LWC_JS}:${lineIn(js, /page\.hasMore/)} page.hasMore reads 'hasMore', which ShipmentController.ShipmentPage does not declare`
        ),
        expect.stringContaining(
          `${LWC_HTML}:${lineIn(html, /key-field=/)} lightning-datatable key-field 'number' is not a field`
        )
      ])
    );
  });

  it('a sort key renamed in the Apex map only', () => {
    const selector = mutate(real.selector, "'weightKg' =>", "'weight' =>");
    const line = lineIn(real.js, /fieldName: 'weightKg'/);
    expect(formatFindings(lwcAgainstApex({ ...real, selector }))).toEqual([
      expect.stringContaining(
        `${LWC_JS}:${line} sorts by 'weightKg', which is not a key of ShipmentSelector.SORTABLE_FIELDS`
      )
    ]);
  });
});
