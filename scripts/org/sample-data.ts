import { salesforceSampleData } from '../../remote-system/src/db/sample-data';
import { asCsvRows } from './csv';
import type { SampleDataSet } from './org-setup';

/** As many Accounts and Products as the ERP seeds by default, so every ERP customer has its Account. */
export const SAMPLE_ACCOUNTS = 1_000;
export const SAMPLE_PRODUCTS = 500;

/**
 * The org's sample data, generated from the same deterministic seed as the remote system's database: a credit
 * check for an Account finds its ERP customer, and a shipment's indirect lookup finds its Account.
 */
export function buildSampleDataSets(): SampleDataSet[] {
  const data = salesforceSampleData(SAMPLE_ACCOUNTS, SAMPLE_PRODUCTS);
  return [
    {
      sobject: 'Account',
      externalIdField: 'ERP_Customer_Number__c',
      records: asCsvRows(data.accounts)
    },
    {
      sobject: 'Product2',
      externalIdField: 'ERP_Product_Code__c',
      // Product2 has no price field: prices live in price book entries, which this demo does not load.
      records: asCsvRows(data.products.map(({ UnitPrice: _listPrice, ...product }) => product))
    }
  ];
}
