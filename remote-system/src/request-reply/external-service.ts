import type { ExternalServiceDescriptor } from '../pattern-module';

/**
 * The Salesforce External Service registration of the request-and-reply API:
 * `ERP_Request_Reply.externalServiceRegistration-meta.xml` embeds the OpenAPI 3.0 document `@fastify/swagger`
 * generates from the route schemas (only these operations), bound to the `ERP` Named Credential, so Flow Builder
 * offers `checkCredit`, `checkStock` and `quotePrices` as actions.
 *
 * Regenerate after changing a route schema (a test fails until you do): `npm run generate:external-services`.
 */
export const REGISTRATION_NAME = 'ERP_Request_Reply';
export const NAMED_CREDENTIAL = 'ERP';
/** The operation ids Flows call the actions by: renaming one breaks every Flow that uses it. */
export const OPERATION_IDS = ['checkCredit', 'checkStock', 'quotePrices'] as const;

export const REQUEST_REPLY_EXTERNAL_SERVICE: ExternalServiceDescriptor = {
  name: REGISTRATION_NAME,
  label: 'ERP Request Reply',
  description: 'ERP credit, stock and pricing for Flow (Request and Reply).',
  namedCredential: NAMED_CREDENTIAL,
  file: `force-app/main/request-reply/externalServiceRegistrations/${REGISTRATION_NAME}.externalServiceRegistration-meta.xml`,
  info: {
    title: 'ERP request-and-reply API',
    version: '1.0.0',
    description:
      'Credit, stock and pricing answers Salesforce waits for before a rep closes or quotes. ' +
      'Every call needs `Authorization: Bearer <shared secret>` and may carry `X-Correlation-Id`.'
  },
  operationIds: OPERATION_IDS
};
