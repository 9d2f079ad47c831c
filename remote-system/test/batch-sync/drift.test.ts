/**
 * Cross-half drift checks for Batch Data Synchronization: every name that crosses the boundary, compared on both
 * halves, so a rename on one side fails `npm test`.
 *
 * | name | remote half | Salesforce half |
 * | --- | --- | --- |
 * | page fields (recursively) | the `CustomersPage` TypeBox schema, and the real server's reply | `ErpCustomerSyncBatch.ErpCustomerPage` / `ErpCustomer` |
 * | page fields | contract example `customersPage` (checked against the schema here) | the same Apex classes |
 * | path and query parameters | the route `/batch-sync/customers`, `CustomersQuery` | `ErpCustomerSyncBatch.CUSTOMERS_PATH`, `?limit=` `&numbers=` `&cursor=` |
 * | error code of a bad cursor | `INVALID_CURSOR` from the real server | contract example `badCursor` |
 * | Bulk load columns | `LOAD_SOURCES.Product2` | contract `bulkLoad`, Product2 External Id `ERP_Product_Code__c` in core |
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { createBatchSyncModule } from '../../src/batch-sync';
import { loadBatchSyncConfig } from '../../src/batch-sync/config';
import { LOAD_SOURCES } from '../../src/batch-sync/bulk/source';
import { CustomersPage, CustomersQuery } from '../../src/batch-sync/schemas';
import { apexStringLiterals, readApexClassFile } from '../drift/apex';
import {
  compareExampleToApex,
  compareSchemaToApex,
  resolveApexClass,
  type ApexModel,
  type JsonSchema
} from '../drift/contract';
import { REPO_ROOT, formatFindings, readSource, type SourceText } from '../drift/findings';
import { jsonLocator } from '../drift/locate';
import { auth, getJson, startServer, TEST_SECRET } from '../support';

const SF = 'force-app/main/batch-sync';
const BATCH = `${SF}/classes/ErpCustomerSyncBatch.cls`;
const CONTRACT = `${SF}/staticresources/BatchSyncContract.json`;
const PAGE_CLASS = 'ErpCustomerSyncBatch.ErpCustomerPage';

interface Contract {
  customersPath: string;
  customersQuery: string[];
  accountFields: Record<string, string>;
  examples: Record<string, { status: number; body: Record<string, unknown> }>;
  bulkLoad: { object: string; externalIdFieldName: string; columns: string[] };
}

function pageFindings(batch: SourceText, contract: SourceText): string[] {
  const model: ApexModel = { files: [readApexClassFile(batch)] };
  const cls = resolveApexClass(model, PAGE_CLASS);
  if (!cls) return [`${batch.file}: no class ${PAGE_CLASS}`];
  const document = JSON.parse(contract.text) as Contract;
  return formatFindings([
    ...compareSchemaToApex(CustomersPage as unknown as JsonSchema, cls, model, {
      label: 'CustomersPage schema'
    }),
    ...compareExampleToApex(document.examples.customersPage!.body, cls, model, {
      locate: jsonLocator(contract),
      basePath: ['examples', 'customersPage', 'body']
    })
  ]);
}

describe('batch-sync drift between the halves', () => {
  const batch = readSource(BATCH);
  const contractSource = readSource(CONTRACT);
  const contract = JSON.parse(contractSource.text) as Contract;

  it('the page Apex parses has exactly the fields the ERP schema and the contract example have', () => {
    expect(pageFindings(batch, contractSource)).toEqual([]);
  });

  it('a field renamed on one side only is reported with its file and line', () => {
    const renamedApex = {
      ...batch,
      text: batch.text.replace('public Decimal creditLimit;', 'public Decimal creditLine;')
    };
    const findings = pageFindings(renamedApex, contractSource);
    expect(findings.join('\n')).toMatch(/creditLimit/);
    expect(findings.join('\n')).toMatch(/ErpCustomerSyncBatch\.cls:\d+/);

    const renamedExample = {
      ...contractSource,
      text: contractSource.text.replace('"riskRating": "B"', '"risk": "B"')
    };
    expect(pageFindings(batch, renamedExample).join('\n')).toMatch(/risk/);
  });

  it('the contract examples are valid under the ERP schemas', () => {
    const validate = new Ajv({ strict: false }).compile(CustomersPage);
    expect(validate(contract.examples.customersPage!.body) ? [] : validate.errors).toEqual([]);
    expect(contract.customersQuery.sort()).toEqual(Object.keys(CustomersQuery.properties).sort());
  });

  it('Apex calls the path and query parameters the ERP serves', () => {
    const literals = apexStringLiterals(batch).map((l) => l.value);
    expect(literals).toContain(contract.customersPath);
    for (const parameter of contract.customersQuery) {
      expect(literals.some((l) => l.includes(`${parameter}=`))).toBe(true);
    }
    // The Account fields the contract names are the ones the batch writes and the metadata defines.
    for (const field of Object.values(contract.accountFields)) {
      expect(batch.text).toContain(`${field} =`);
      expect(
        fs.existsSync(path.join(REPO_ROOT, SF, 'objects/Account/fields', `${field}.field-meta.xml`))
      ).toBe(true);
    }
  });

  it('the real server answers with the contract shapes (a page, and INVALID_CURSOR)', async () => {
    const server = await startServer({
      patterns: [
        createBatchSyncModule({ tokenSecret: TEST_SECRET, config: loadBatchSyncConfig({}) })
      ]
    });
    try {
      const ok = await getJson(
        `${server.baseUrl}${contract.customersPath}?numbers=C-000001,C-000002,C-999999`,
        {
          headers: auth
        }
      );
      expect(ok.status).toBe(contract.examples.customersPage!.status);
      const body = ok.body as Record<string, unknown>;
      const validate = new Ajv({ strict: false }).compile(CustomersPage);
      expect(validate(body) ? [] : validate.errors).toEqual([]);
      // The example shows a page with a next cursor; the last page leaves it out.
      expect(Object.keys(contract.examples.customersPage!.body)).toEqual(
        expect.arrayContaining(Object.keys(body))
      );
      expect(body.missing).toEqual(contract.examples.customersPage!.body.missing);
      const bad = await getJson(`${server.baseUrl}${contract.customersPath}?cursor=forged.cursor`, {
        headers: auth
      });
      const example = contract.examples.badCursor!;
      expect(bad.status).toBe(example.status);
      expect((bad.body as { error: { code: string } }).error.code).toBe(
        (example.body.error as { code: string }).code
      );
    } finally {
      await server.close();
    }
  });

  it('the Bulk load sends the columns and External Id the contract and core metadata name', () => {
    const source = LOAD_SOURCES[contract.bulkLoad.object]!;
    expect(source.columns).toEqual(contract.bulkLoad.columns);
    expect(source.externalIdField).toBe(contract.bulkLoad.externalIdFieldName);
    const field = fs.readFileSync(
      path.join(
        REPO_ROOT,
        'force-app/main/core/objects/Product2/fields',
        `${source.externalIdField}.field-meta.xml`
      ),
      'utf8'
    );
    expect(field).toContain('<externalId>true</externalId>');
  });
});
