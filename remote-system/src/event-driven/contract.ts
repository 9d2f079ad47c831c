/**
 * Names the ERP's half of Event-Driven Architecture shares with the Salesforce half. They also live in
 * `force-app/main/event-driven/staticresources/EventDrivenContract.json` and the channel metadata;
 * `remote-system/test/event-driven/drift.test.ts` fails when the two disagree.
 */

/** The custom change data capture channel (`PlatformEventChannel`, channel type `data`). */
export const CHANNEL_NAME = 'ERP_Customer_Changes__chn';
/** The Pub/Sub API topic of the channel. */
export const DEFAULT_TOPIC = `/data/${CHANNEL_NAME}`;
/** The one entity on the channel. */
export const ENTITY = 'Account';

/** The three consumers: each is one subscription with its own checkpoint, ledger and dead letters. */
export const CONSUMER_NAMES = ['erp-customer-master', 'marketing-segments', 'analytics'] as const;
export type ConsumerName = (typeof CONSUMER_NAMES)[number];

/** Change event fields each consumer reads (compound members as `Parent.Member`). */
export const CONSUMER_FIELDS: Readonly<Record<ConsumerName, readonly string[]>> = {
  'erp-customer-master': [
    'Name',
    'Industry',
    'BillingAddress.City',
    'BillingAddress.Country',
    'Phone',
    'ERP_Customer_Number__c'
  ],
  'marketing-segments': [
    'Industry',
    'AnnualRevenue',
    'NumberOfEmployees',
    'BillingAddress.Country'
  ],
  analytics: []
};

/**
 * The Account fields re-read through the REST API after a gap event (`GET …/sobjects/Account/{id}?fields=…`), and
 * which change event names the REST API spells differently (REST has the compound members as plain fields).
 */
export const RECORD_FIELDS = [
  'Name',
  'Industry',
  'BillingCity',
  'BillingCountry',
  'Phone',
  'AnnualRevenue',
  'NumberOfEmployees',
  'ERP_Customer_Number__c'
] as const;
export const REST_TO_EVENT_FIELD: Readonly<Record<string, string>> = {
  BillingCity: 'BillingAddress.City',
  BillingCountry: 'BillingAddress.Country'
};
