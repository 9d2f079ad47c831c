/**
 * The drift helpers on small in-memory inputs: what each one reads, and that each comparison reports a one-sided
 * change at the file and line of the side that changed. The per-pattern checks live in
 * `remote-system/test/<pattern>/drift.test.ts`.
 */
import { Type } from '@sinclair/typebox';
import {
  apexCallLiterals,
  apexFieldCopies,
  apexFieldLiterals,
  apexMapEntries,
  parseApexType,
  readApexClassFile
} from './apex';
import { compareExampleToApex, compareSchemaToApex, type ApexModel } from './contract';
import { formatFindings, type SourceText } from './findings';
import { formatJsonPath, jsonLocator, objectLiteralLocator } from './locate';
import {
  compareNamesToApex,
  comparePathsToApex,
  jsMemberPaths,
  jsStringProperties,
  templateAttributeValues,
  templateMemberPaths
} from './lwc';
import { readCustomField } from './object-metadata';
import { resolveSchemaRefs } from './routes';
import { compareExternalObject, readODataMetadata, salesforceTypesFor } from './odata';

const APEX: SourceText = {
  file: 'force-app/Models.cls',
  text: `public with sharing class Models {
  private static final Map<String, String> SORTS = new Map<String, String>{
    'name' => 'Name__c',
    'size' => 'Size__c'
  };
  private static final String QUERY = 'SELECT Name__c, ' + 'Size__c FROM Thing__x';
  public static Integer counter;
  public class Order {
    @AuraEnabled
    public String orderNumber;
    @AuraEnabled
    public List<Line> lines;
    public transient String scratch;
    public Decimal total { get; set; }
  }
  public class Line {
    public String code;
    public Integer quantity;
    public Tag[] tags;
  }
  public class Tag {
    public String label;
  }
  static String read(Map<String, Object> doc, Thing__x thing, Row row) {
    row.name = thing.Name__c;
    row.size = thing.Size__c;
    return (String) doc.get('error');
  }
}
`
};

const model = (): ApexModel => ({ files: [readApexClassFile(APEX)] });

describe('apex', () => {
  it('reads instance fields and properties of inner classes with types and lines, skipping statics', () => {
    const file = readApexClassFile(APEX);
    const order = file.find('Order');
    expect(order?.qualifiedName).toBe('Models.Order');
    expect(order?.fields.map((f) => [f.name, f.type, f.line, f.annotations])).toEqual([
      ['orderNumber', 'String', 10, ['auraenabled']],
      ['lines', 'List<Line>', 12, ['auraenabled']],
      ['scratch', 'String', 13, []],
      ['total', 'Decimal', 14, []]
    ]);
    expect(file.find('models.line')?.fields.map((f) => f.name)).toEqual([
      'code',
      'quantity',
      'tags'
    ]);
    expect(file.topLevel.fields.find((f) => f.name === 'counter')?.isStatic).toBe(true);
    expect(parseApexType('Tag[]')).toEqual({
      kind: 'list',
      element: { kind: 'class', name: 'Tag' }
    });
    expect(parseApexType('Map<String,List<Line>>')).toEqual({
      kind: 'map',
      value: { kind: 'list', element: { kind: 'class', name: 'Line' } }
    });
  });

  it('reads map literals, a field initializer, call arguments and field copies with lines', () => {
    expect(apexMapEntries(APEX, 'SORTS').map((e) => [e.key, e.value, e.line, e.mapTypes])).toEqual([
      ['name', 'Name__c', 3, 'String,String'],
      ['size', 'Size__c', 4, 'String,String']
    ]);
    expect(apexFieldLiterals(APEX, 'QUERY').map((l) => l.value)).toEqual([
      'SELECT Name__c, ',
      'Size__c FROM Thing__x'
    ]);
    expect(apexCallLiterals(APEX, 'get')).toEqual([{ value: 'error', file: APEX.file, line: 27 }]);
    expect(apexFieldCopies(APEX, 'row', 'thing').map((c) => [c.target, c.source, c.line])).toEqual([
      ['name', 'Name__c', 25],
      ['size', 'Size__c', 26]
    ]);
  });

  it('refuses Apex it cannot parse, naming file and line', () => {
    expect(() =>
      readApexClassFile({ file: 'x/Broken.cls', text: 'public class Broken {\n  int x = ;\n}' })
    ).toThrow(/^x\/Broken\.cls:2:\d+ Apex syntax error/);
  });
});

describe('contract', () => {
  const json: SourceText = {
    file: 'contract.json',
    text: JSON.stringify(
      {
        body: {
          orderNumber: 'O-1',
          total: 12.5,
          lines: [{ code: 'P-1', quantity: 2, tags: [{ label: 'x' }] }]
        }
      },
      null,
      2
    )
  };
  const body = (): unknown => (JSON.parse(json.text) as { body: unknown }).body;
  const order = () => model().files[0]!.find('Order')!;

  it('locates JSON paths by line', () => {
    const locate = jsonLocator(json);
    expect(locate(['body', 'lines', 0, 'tags', 0, 'label']).line).toBe(11);
    expect(formatJsonPath(['body', 'lines', 0, 'code'])).toBe('$.body.lines[0].code');
  });

  it('an example that matches the class tree finds nothing; a renamed key on either side is found', () => {
    const options = { locate: jsonLocator(json), basePath: ['body'] };
    // `scratch` is transient: JSON never carries it.
    expect(formatFindings(compareExampleToApex(body(), order(), model(), options))).toEqual([]);
    const mutated: SourceText = { file: json.file, text: json.text.replace('"label"', '"name"') };
    const renamed = (JSON.parse(mutated.text) as { body: unknown }).body;
    expect(
      formatFindings(
        compareExampleToApex(renamed, order(), model(), {
          ...options,
          locate: jsonLocator(mutated)
        })
      )
    ).toEqual([
      "contract.json:11 $.body.lines[0].tags[0].name has no field 'name' in Models.Tag (other side: force-app/Models.cls:21)",
      'force-app/Models.cls:22 Models.Tag.label is not in the contract example at $.body.lines[0].tags[0].label (other side: contract.json:10)'
    ]);
    const retyped = JSON.parse(
      JSON.stringify(body()).replace('"quantity":2', '"quantity":2.5')
    ) as unknown;
    expect(formatFindings(compareExampleToApex(retyped, order(), model(), options))).toContainEqual(
      expect.stringContaining(
        'force-app/Models.cls:18 Models.Line.quantity is integer, but $.body.lines[0].quantity is number (2.5)'
      )
    );
  });

  it('reads TypeBox schemas (unions of literals, optional and nullable properties) and finds renames', () => {
    const schema = Type.Object({
      orderNumber: Type.Union([Type.Literal('A'), Type.Literal('B')]),
      total: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      lines: Type.Array(
        Type.Object({
          code: Type.String(),
          quantity: Type.Integer(),
          tags: Type.Array(Type.Object({ label: Type.String() }))
        })
      )
    });
    const source: SourceText = {
      file: 'remote-system/src/x/schemas.ts',
      text: `export const Line = Type.Object({\n  code: Type.String(),\n  quantity: Type.Integer(),\n  tags: Type.Array(Tag)\n});\n`
    };
    const options = { label: 'reply schema', locate: objectLiteralLocator([source]) };
    const clean = structuredClone(schema) as unknown as Parameters<typeof compareSchemaToApex>[0];
    expect(formatFindings(compareSchemaToApex(clean, order(), model(), options))).toEqual([]);
    const changed = structuredClone(schema) as unknown as {
      properties: { lines: { items: { properties: Record<string, unknown> } } };
    };
    const line = changed.properties.lines.items.properties;
    line.sku = line.code;
    delete line.code;
    expect(
      formatFindings(compareSchemaToApex(changed as never, order(), model(), options))
    ).toEqual([
      'force-app/Models.cls:17 Models.Line.code is not a property of reply schema at $.lines[0] (other side: reply schema $.lines[0] at remote-system/src/x/schemas.ts:3)',
      "remote-system/src/x/schemas.ts:1 reply schema $.lines[0].sku has no field 'sku' in Models.Line (other side: force-app/Models.cls:16)"
    ]);
  });

  it('reports a schema it cannot read instead of passing', () => {
    expect(
      formatFindings(
        compareSchemaToApex({ $ref: '#/defs/Order' }, order(), model(), { label: 'reply' })
      )
    ).toEqual([
      expect.stringContaining(
        'force-app/Models.cls:8 Models.Order is read from reply $, which is not an object schema'
      )
    ]);
  });
});

describe('lwc', () => {
  const js: SourceText = {
    file: 'lwc/x/x.js',
    text: `const COLUMNS = [{ label: 'Code', fieldName: 'code', sortable: true }];
export default class X {
  sortedBy = 'code';
  get view() {
    const order = this.order;
    return order.lines.map((line) => line.code + order.orderNumber + line.tags[0].label);
  }
}
`
  };
  const html: SourceText = {
    file: 'lwc/x/x.html',
    text: `<template>
  <template for:each={order.lines} for:item="line"><p key={line.code}>{line.quantity}</p></template>
  <template iterator:it={order.lines}><p key={it.value.code}>{it.value.cost}</p></template>
  <lightning-datatable key-field="code"></lightning-datatable>
</template>`
  };

  it('reads property paths through aliases, array callbacks and template iterations', () => {
    expect(jsMemberPaths(js).map((p) => [p.segments.join('.'), p.line])).toEqual(
      expect.arrayContaining([
        ['this.order.lines.map', 6],
        ['this.order.lines.[].code', 6],
        ['this.order.orderNumber', 6],
        ['this.order.lines.[].tags.[].label', 6]
      ])
    );
    expect(templateMemberPaths(html).map((p) => [p.segments.join('.'), p.line])).toEqual([
      ['order.lines', 2],
      ['order.lines.[].code', 2],
      ['order.lines.[].quantity', 2],
      ['order.lines', 3],
      ['order.lines.[].code', 3],
      ['order.lines.[].cost', 3]
    ]);
    expect(jsStringProperties(js, 'fieldName')).toEqual([
      {
        value: 'code',
        siblings: { label: 'Code', fieldName: 'code', sortable: true },
        file: js.file,
        line: 1
      }
    ]);
    expect(jsStringProperties(js, 'sortedBy').map((v) => [v.value, v.line])).toEqual([['code', 3]]);
    expect(templateAttributeValues(html, 'key-field')).toEqual([
      { value: 'code', file: html.file, line: 4 }
    ]);
  });

  it('resolves bound paths against the Apex tree and names the unknown segment', () => {
    const bindings = { 'this.order': 'Models.Order', order: 'Models.Order' };
    expect(
      formatFindings(
        comparePathsToApex([...jsMemberPaths(js), ...templateMemberPaths(html)], bindings, model())
      )
    ).toEqual([
      "lwc/x/x.html:3 order.lines[].cost reads 'cost', which Models.Line does not declare (other side: force-app/Models.cls:16)"
    ]);
    expect(
      formatFindings(
        compareNamesToApex(
          [{ value: 'Code', what: 'column', file: js.file, line: 1 }],
          'Models.Line',
          model()
        )
      )
    ).toEqual([
      "lwc/x/x.js:1 column 'Code' is not a field of Models.Line (it declares 'code') (other side: force-app/Models.cls:17)"
    ]);
  });
});

describe('odata', () => {
  const metadata: SourceText = {
    file: 'GET $metadata',
    text: `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="ERP">
      <EntityType Name="Thing">
        <Key><PropertyRef Name="Code"/></Key>
        <Property Name="Code" Type="Edm.String" Nullable="false" MaxLength="20"/>
        <Property Name="Notes" Type="Edm.String" MaxLength="4000"/>
        <Property Name="Count" Type="Edm.Int64"/>
      </EntityType>
      <EntityContainer Name="Svc"><EntitySet Name="Things" EntityType="ERP.Thing"/></EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`
  };
  const field = (name: string, external: string, body: string) =>
    readCustomField({
      file: `objects/Thing__x/fields/${name}.field-meta.xml`,
      text: `<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n  <fullName>${name}</fullName>\n  <externalDeveloperName>${external}</externalDeveloperName>\n${body}\n</CustomField>\n`
    });
  const object = (fields: ReturnType<typeof field>[]) => ({
    file: 'objects/Thing__x/Thing__x.object-meta.xml',
    name: 'Thing__x',
    externalName: { value: 'Things', line: 3 },
    fields
  });

  it('reads entity sets with facets and lines, and maps Edm types as the OData 4.0 adapter does', () => {
    const [set] = readODataMetadata(metadata);
    expect(set?.keys).toEqual(['Code']);
    expect(set?.properties.map((p) => [p.name, p.maxLength, p.line])).toEqual([
      ['Code', 20, 7],
      ['Notes', 4000, 8],
      ['Count', undefined, 9]
    ]);
    expect(salesforceTypesFor(set!.properties[1]!)).toEqual(['LongTextArea']);
    expect(salesforceTypesFor({ ...set!.properties[0]!, type: 'Edm.TimeOfDay' })).toBeUndefined();
  });

  it('finds nothing when fields match, and names the field line for each kind of drift', () => {
    const good = [
      field('Code__c', 'Code', '  <type>Text</type>\n  <length>20</length>'),
      field('Notes__c', 'Notes', '  <type>LongTextArea</type>\n  <length>4000</length>'),
      field(
        'Count__c',
        'Count',
        '  <type>Number</type>\n  <precision>18</precision>\n  <scale>0</scale>'
      )
    ];
    const options = { metadataLabel: 'served $metadata' };
    expect(formatFindings(compareExternalObject(object(good), metadata, options))).toEqual([]);
    const bad = [
      field('Code__c', 'Code', '  <type>Text</type>\n  <length>30</length>'),
      field('Notes__c', 'Note', '  <type>LongTextArea</type>\n  <length>4000</length>'),
      field(
        'Count__c',
        'Count',
        '  <type>Number</type>\n  <precision>18</precision>\n  <scale>2</scale>'
      )
    ];
    expect(formatFindings(compareExternalObject(object(bad), metadata, options))).toEqual([
      "GET $metadata:8 property Things.Notes has no field on Thing__x (no externalDeveloperName 'Notes'); add the field or list it as deliberately unmapped (other side: objects/Thing__x/fields/)",
      'objects/Thing__x/fields/Code__c.field-meta.xml:6 Thing__x.Code__c has length 30, but Code is Edm.String (MaxLength=20): a sync makes length 20 (other side: GET $metadata:7)',
      'objects/Thing__x/fields/Count__c.field-meta.xml:7 Thing__x.Count__c has scale 2, but Count is Edm.Int64 (an integer): the scale must be 0 (other side: GET $metadata:9)',
      "objects/Thing__x/fields/Notes__c.field-meta.xml:4 Thing__x.Notes__c maps to 'Note', which is not a property of Things (other side: served $metadata)"
    ]);
    expect(
      formatFindings(
        compareExternalObject(
          { ...object(good), externalName: { value: 'Thingz', line: 3 } },
          metadata,
          options
        )
      )
    ).toEqual([
      "objects/Thing__x/Thing__x.object-meta.xml:3 externalName 'Thingz' is not an entity set of the producer (it has: Things) (other side: served $metadata)"
    ]);
  });
});

describe('routes', () => {
  it('resolves $refs to shared schemas by $id, keeping sibling keywords', () => {
    const shared = {
      Line: { $id: 'Line', type: 'object', properties: { code: { type: 'string' } } }
    };
    expect(
      resolveSchemaRefs(
        { type: 'array', items: { $ref: 'Line#', description: 'a line' }, other: { $ref: 'Nope' } },
        shared
      )
    ).toEqual({
      type: 'array',
      items: {
        $id: 'Line',
        type: 'object',
        properties: { code: { type: 'string' } },
        description: 'a line'
      },
      other: { $ref: 'Nope' }
    });
  });
});
