/**
 * Cross-half drift checks for Remote Call-In: every name that crosses the boundary, compared on both halves, so a
 * rename on one side fails `npm test`.
 *
 * | name | Salesforce half | remote half |
 * | --- | --- | --- |
 * | request fields (orders, lines) | `WebOrderApi.CreateRequest` / `OrderInput` / `LineInput`, `WebOrderValidator.ORDER_FIELDS` / `LINE_FIELDS` | contract `createOrders` request, the orders `generateOrders` builds from the ERP |
 * | answer fields | `WebOrderApi.CreateResponse`, `OrderResult`, `OrderView`, `LineView`, `ValidateResponse`, `ErrorResponse`, `ApiError` | contract answers (which the stand-in and the client read) |
 * | URL | `@RestResource(urlMapping='/v1/orders/*')` | `ORDERS_PATH` |
 * | headers | `Idempotency-Key`, `Idempotent-Replayed`, `X-Correlation-Id` in `WebOrderService` / `WebOrderResource` | the client's headers |
 * | limits | `WebOrderApi.MAX_*`, `KEY_RETENTION_DAYS` | contract `limits` (the stand-in enforces them) |
 * | customer key | `Account.ERP_Customer_Number__c` (core) | `ACCOUNT_UPSERT_PATH` |
 */
import { openDatabase, seedDatabase } from '../../src/db';
import { ACCOUNT_UPSERT_PATH } from '../../src/remote-call-in/customers';
import { generateOrders, ORDERS_PATH } from '../../src/remote-call-in/orders';
import { apexFieldLiterals, apexStringLiterals, readApexClassFile } from '../drift/apex';
import { compareExampleToApex, resolveApexClass, type ApexModel } from '../drift/contract';
import { formatFindings, readSource } from '../drift/findings';
import { jsonLocator, type JsonPath } from '../drift/locate';
import { SMALL_SEED } from '../support';
import { readContract } from './org-stand-in';

const SF = 'force-app/main/remote-call-in';
const API = readSource(`${SF}/classes/WebOrderApi.cls`);
const VALIDATOR = readSource(`${SF}/classes/WebOrderValidator.cls`);
const SERVICE = readSource(`${SF}/classes/WebOrderService.cls`);
const RESOURCE = readSource(`${SF}/classes/WebOrderResource.cls`);
const CONTRACT = readSource(`${SF}/staticresources/RemoteCallInContract.json`);
const model: ApexModel = { files: [readApexClassFile(API)] };
const contract = readContract();

function check(example: unknown, className: string, basePath: JsonPath): string[] {
  const cls = resolveApexClass(model, `WebOrderApi.${className}`);
  if (!cls) return [`${API.file}: no class WebOrderApi.${className}`];
  return formatFindings(
    compareExampleToApex(example, cls, model, { locate: jsonLocator(CONTRACT), basePath })
  );
}

const body = (name: string): unknown => contract.examples[name]?.response.body;

describe('Remote Call-In: both halves name the same things', () => {
  it('the request example is what WebOrderApi.CreateRequest reads', () => {
    expect(
      check(contract.examples.createOrders?.request.body, 'CreateRequest', [
        'examples',
        'createOrders',
        'request',
        'body'
      ])
    ).toEqual([]);
  });

  it.each([
    ['createOrders', 'CreateResponse'],
    ['existingOrder', 'CreateResponse'],
    ['getOrder', 'OrderView'],
    ['validateOnly', 'ValidateResponse'],
    ['validationErrors', 'ErrorResponse'],
    ['sameKeyDifferentBody', 'ErrorResponse'],
    ['getUnknown', 'ErrorResponse'],
    ['notJson', 'ErrorResponse'],
    ['tooLarge', 'ErrorResponse']
  ])('the %s answer is what WebOrderApi.%s serialises', (name, className) => {
    expect(check(body(name), className, ['examples', name, 'response', 'body'])).toEqual([]);
  });

  it('the orders the ERP generates are what WebOrderApi.CreateRequest reads', () => {
    const db = openDatabase(':memory:');
    try {
      seedDatabase(db, SMALL_SEED);
      const orders = generateOrders(db, 3, 'WEB-DRIFT', () => 0.5);
      expect(check({ orders }, 'CreateRequest', [])).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('the validator knows exactly the request fields', () => {
    const names = (field: string) => apexFieldLiterals(VALIDATOR, field).map((l) => l.value);
    const [order] = (contract.examples.createOrders?.request.body as { orders: object[] })
      .orders as [{ lines: object[] }];
    expect(names('ORDER_FIELDS')).toEqual(Object.keys(order));
    expect(names('LINE_FIELDS')).toEqual(Object.keys(order.lines[0] ?? {}));
  });

  it('the URL, headers and limits agree', () => {
    expect(RESOURCE.text).toContain(
      `@RestResource(urlMapping='${ORDERS_PATH.replace('/services/apexrest', '')}/*')`
    );
    const literals = [...apexStringLiterals(SERVICE), ...apexStringLiterals(RESOURCE)].map(
      (l) => l.value
    );
    for (const header of [
      'Idempotency-Key',
      'Idempotent-Replayed',
      'X-Correlation-Id',
      'Content-Type'
    ]) {
      expect(literals).toContain(header);
    }
    const constant = (name: string) => new RegExp(`${name} = ([\\d]+);`).exec(API.text)?.[1];
    expect({
      maxOrdersPerRequest: Number(constant('MAX_ORDERS')),
      maxLinesPerOrder: Number(constant('MAX_LINES')),
      maxBodyBytes: Number(constant('MAX_BODY_BYTES')),
      maxIdempotencyKeyLength: Number(constant('MAX_KEY_LENGTH')),
      idempotencyRetentionDays: Number(constant('KEY_RETENTION_DAYS'))
    }).toEqual(contract.limits);
  });

  it('customers are upserted on the External Id the order API looks them up by', () => {
    expect(ACCOUNT_UPSERT_PATH('67.0')).toMatch(/\/Account\/ERP_Customer_Number__c$/);
    expect(VALIDATOR.text).toContain('WHERE ERP_Customer_Number__c IN :numbers');
    expect(
      readSource('force-app/main/core/objects/Account/fields/ERP_Customer_Number__c.field-meta.xml')
        .text
    ).toMatch(/<externalId>true<\/externalId>/);
  });
});
