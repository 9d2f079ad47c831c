/**
 * `$metadata` read by an independent CSDL parser (@sap-ux/edmx-parser) and checked against the database it
 * describes: what Salesforce Connect's "Validate and Sync" turns into the external object's fields.
 */
import { parse as parseEdmx } from '@sap-ux/edmx-parser';
import type Database from 'better-sqlite3';
import { SHIPMENTS } from '../../src/data-virtualization/entity';
import { createShipmentDatabase, startServer, type TestServer } from './support';

// Real HTTP servers and seeded databases on a shared, busy machine: generous per-test timeouts.
jest.setTimeout(60_000);

let db: Database.Database;
let server: TestServer;

beforeAll(async () => {
  db = createShipmentDatabase(500);
  server = await startServer(db);
});

afterAll(async () => {
  await server.close();
});

/** The part of the parser's result this test reads (its own types package is not a dependency). */
interface ParsedProperty {
  name: string;
  type: string;
  nullable?: boolean;
  maxLength?: number;
  precision?: number;
  scale?: number;
}
interface ParsedModel {
  version: string;
  schema: {
    namespace: string;
    entitySets: { name: string; entityTypeName: string }[];
    entityTypes: { name: string; keys: ParsedProperty[]; entityProperties: ParsedProperty[] }[];
  };
}

const parse = (xml: string): ParsedModel => parseEdmx(xml) as unknown as ParsedModel;

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

describe('$metadata', () => {
  it('is OData 4.0 CSDL that an independent parser reads, with the key Salesforce Connect uses as External ID', async () => {
    const response = await server.get('$metadata');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/xml/);
    expect(response.headers['odata-version']).toBe('4.0');

    const model = parse(response.body);
    expect(model.version).toBe('4.0');
    expect(model.schema.namespace).toBe('ERP');
    expect(model.schema.entitySets.map((s) => [s.name, s.entityTypeName])).toEqual([
      ['Shipments', 'ERP.Shipment']
    ]);
    const [type] = model.schema.entityTypes;
    expect(type?.name).toBe('Shipment');
    expect(type?.keys.map((k) => k.name)).toEqual(['ShipmentNumber']);
    expect(type?.entityProperties.map((p) => p.name)).toEqual(
      SHIPMENTS.properties.map((p) => p.name)
    );
  });

  it('declares, for every property, a column that exists, a fitting Edm type, nullability and MaxLength', async () => {
    const model = parse((await server.get('$metadata')).body);
    const properties = model.schema.entityTypes[0]?.entityProperties ?? [];
    const columns = new Map(
      (db.prepare('PRAGMA table_info(shipments)').all() as ColumnInfo[]).map((c) => [c.name, c])
    );
    const affinity: Record<string, string> = {
      'Edm.String': 'TEXT',
      'Edm.Date': 'TEXT',
      'Edm.DateTimeOffset': 'TEXT',
      'Edm.Double': 'REAL',
      'Edm.Decimal': 'REAL',
      'Edm.Int32': 'INTEGER',
      'Edm.Boolean': 'INTEGER'
    };
    for (const definition of SHIPMENTS.properties) {
      const parsed = properties.find((p) => p.name === definition.name);
      const column = columns.get(definition.column);
      expect({ name: definition.name, column: column?.name }).toEqual({
        name: definition.name,
        column: definition.column
      });
      expect(parsed?.type).toBe(definition.type);
      expect(column?.type).toBe(affinity[definition.type]);
      // Nullable="false" only where the database guarantees it (NOT NULL or the primary key).
      const notNull = column?.notnull === 1 || column?.pk === 1;
      expect({ name: definition.name, nullable: parsed?.nullable ?? true }).toEqual({
        name: definition.name,
        nullable: !notNull
      });
      if (definition.type === 'Edm.String') {
        // Salesforce makes a Text(128) field when MaxLength is missing: always declare it, and fit the data.
        expect(parsed?.maxLength).toBeGreaterThan(0);
        const longest = db
          .prepare(`SELECT max(length(${definition.column})) FROM shipments`)
          .pluck()
          .get() as number;
        expect(longest).toBeLessThanOrEqual(parsed?.maxLength ?? 0);
      }
    }
    const decimal = properties.find((p) => p.name === 'DeclaredValue');
    expect([decimal?.precision, decimal?.scale]).toEqual([18, 2]);
  });

  it('values in responses have the JSON shape of their Edm type', async () => {
    const response = await server.get('Shipments', { $top: '200' });
    const { value } = response.json() as { value: Record<string, unknown>[] };
    const shapes: Record<string, (v: unknown) => boolean> = {
      'Edm.String': (v) => typeof v === 'string',
      'Edm.Boolean': (v) => typeof v === 'boolean',
      'Edm.Int32': (v) => Number.isInteger(v),
      'Edm.Double': (v) => typeof v === 'number',
      'Edm.Decimal': (v) => typeof v === 'number',
      'Edm.Date': (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
      'Edm.DateTimeOffset': (v) =>
        typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v)
    };
    expect(value).toHaveLength(200);
    for (const entity of value) {
      for (const property of SHIPMENTS.properties) {
        const v = entity[property.name];
        const ok = (v === null && property.nullable) || shapes[property.type]!(v);
        expect({ property: property.name, value: v, ok }).toEqual({
          property: property.name,
          value: v,
          ok: true
        });
      }
    }
  });

  it('the service document lists the entity set and points at $metadata', async () => {
    for (const path of ['', '/']) {
      const response = await server.fetchPath(`/data-virtualization/odata${path}`);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({
        '@odata.context': `${server.baseUrl}/data-virtualization/odata/$metadata`,
        value: [{ name: 'Shipments', kind: 'EntitySet', url: 'Shipments' }]
      });
    }
  });
});
