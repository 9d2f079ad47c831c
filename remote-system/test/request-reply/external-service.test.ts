import Ajv from 'ajv';
import { renderExternalServices } from '../../src/external-services';
import { createRequestReplyModule } from '../../src/request-reply';
import {
  NAMED_CREDENTIAL,
  OPERATION_IDS,
  REGISTRATION_NAME
} from '../../src/request-reply/external-service';

/**
 * What Salesforce relies on in the `ERP_Request_Reply` registration (the generic staleness check is in
 * `test/external-services.test.ts`): the operation ids Flows call, the component names Salesforce derives the Flow
 * types from, and the ERP Named Credential.
 */
jest.setTimeout(30_000);

describe('ERP_Request_Reply External Service', () => {
  it('offers checkCredit, checkStock and quotePrices with the named request and reply types', async () => {
    const [registration] = await renderExternalServices([createRequestReplyModule()]);
    if (!registration) throw new Error('request-reply declares no External Service');
    expect(registration.descriptor.name).toBe(REGISTRATION_NAME);
    expect(registration.descriptor.namedCredential).toBe(NAMED_CREDENTIAL);
    expect(OPERATION_IDS).toEqual(['checkCredit', 'checkStock', 'quotePrices']);
    const schemas = registration.document.components?.schemas ?? {};
    expect(Object.keys(schemas).sort()).toEqual(
      ['CreditCheck', 'Error', 'PriceQuote', 'PricingRequest', 'StockCheck', 'StockRequest'].sort()
    );
    const ajv = new Ajv({ strict: false });
    for (const schema of Object.values(schemas)) {
      expect(() => ajv.compile(schema as object)).not.toThrow();
    }
    const paths = registration.document.paths;
    expect(Object.keys(paths)).toEqual([
      '/request-reply/credit/{customerNumber}',
      '/request-reply/stock',
      '/request-reply/pricing'
    ]);
    const credit = paths['/request-reply/credit/{customerNumber}']?.get as {
      responses: Record<string, unknown>;
    };
    expect(Object.keys(credit.responses).sort()).toEqual(['200', '400', '401', '404', '500']);
  });
});
