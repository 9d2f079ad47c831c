import Ajv from 'ajv';
import { errorBodySchema } from '../../src/http/errors';
import {
  creditResponseSchema,
  pricingResponseSchema,
  stockResponseSchema
} from '../../src/request-reply/schemas';
import { loadContract, send, startTestServer, stopTestServer, type TestServer } from './support';
import { shapeDifferences } from './shape';

/**
 * One contract, checked from both sides: the Apex tests mock their Continuation responses with these examples, and
 * here each example's request goes to the real endpoint, whose reply must have exactly the example's shape.
 */
const examples = loadContract();

const schemaFor: Record<string, object> = {
  creditApproved: creditResponseSchema,
  creditNotFound: errorBodySchema,
  validationError: errorBodySchema,
  serverError: errorBodySchema,
  stockCheck: stockResponseSchema,
  priceQuote: pricingResponseSchema
};

describe('request-reply contract examples', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await stopTestServer(server);
  });

  it('covers every outcome the Apex callback maps', () => {
    expect(Object.keys(examples).sort()).toEqual(Object.keys(schemaFor).sort());
  });

  it.each(Object.keys(schemaFor))('example %s conforms to the route schema', (name) => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schemaFor[name] as object);
    const valid = validate(examples[name]?.body);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(Object.keys(schemaFor))(
    'the real endpoint answers %s with the example status and shape',
    async (name) => {
      const example = examples[name];
      if (!example) throw new Error(`missing example ${name}`);
      const response = await send(server.baseUrl, example.request);
      expect(response.status).toBe(example.status);
      expect(shapeDifferences(example.body, response.body)).toEqual([]);
    }
  );

  it('the fixture data reproduces the examples value for value (hand-checked arithmetic)', async () => {
    for (const name of ['creditApproved', 'stockCheck', 'priceQuote']) {
      const example = examples[name];
      if (!example) throw new Error(`missing example ${name}`);
      const response = await send(server.baseUrl, example.request);
      expect(response.body).toEqual(example.body);
    }
  });

  describe('the drift check fails on a renamed field', () => {
    it('on the Salesforce side (a field renamed in the example)', async () => {
      const example = examples.creditApproved;
      if (!example) throw new Error('missing example creditApproved');
      const renamed = JSON.parse(
        JSON.stringify(example.body).replace('"availableCredit"', '"creditAvailable"')
      ) as unknown;
      const response = await send(server.baseUrl, example.request);
      expect(shapeDifferences(renamed, response.body)).toEqual([
        '$.creditAvailable: missing',
        '$.availableCredit: unexpected'
      ]);
    });

    it('on the ERP side (a field renamed in the reply, nested in an array)', async () => {
      const example = examples.stockCheck;
      if (!example) throw new Error('missing example stockCheck');
      const response = await send(server.baseUrl, example.request);
      const renamed = JSON.parse(
        JSON.stringify(response.body).replaceAll('"warehouseCode"', '"warehouse"')
      ) as unknown;
      expect(shapeDifferences(example.body, renamed)).toContain(
        '$.lines[0].warehouses[0].warehouseCode: missing'
      );
    });

    it('on a changed type', () => {
      expect(shapeDifferences({ onHold: false }, { onHold: 'false' })).toEqual([
        '$.onHold: expected boolean, got string'
      ]);
    });
  });
});
