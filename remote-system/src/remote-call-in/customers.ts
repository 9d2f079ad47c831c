import type { OrgCaller } from './caller';
import { errorsOf } from './orders';

/** The Account upsert endpoint: sObject Collections, matched on the ERP customer number (an External Id). */
export const ACCOUNT_UPSERT_PATH = (apiVersion: string): string =>
  `/services/data/v${apiVersion}/composite/sobjects/Account/ERP_Customer_Number__c`;

/** The documented maximum of records per sObject Collections request. */
export const COLLECTION_LIMIT = 200;

export interface ErpCustomer {
  readonly customerNumber: string;
  readonly name: string;
}

/** One customer's outcome; `errors` holds Salesforce's `statusCode: message` lines when it failed. */
export interface CustomerUpsert {
  readonly customerNumber: string;
  readonly success: boolean;
  readonly created: boolean;
  readonly id?: string;
  readonly errors: readonly string[];
}

interface UpsertResult {
  readonly id?: string;
  readonly success: boolean;
  readonly created?: boolean;
  readonly errors?: readonly { statusCode?: string; message?: string }[];
}

/**
 * Creates or updates Accounts for ERP customers with the Composite API (sObject Collections upsert, 200 records a
 * request): the guide's preferred path for plain record writes, no Apex involved.
 *
 * `allOrNone: false` on purpose: customers are independent of one another, so one that Salesforce refuses (a
 * validation rule, a duplicate rule) must not hold back the rest. The caller gets each customer's own result and
 * leaves the orders of a refused customer out of the order batches, instead of failing whole batches later.
 * Upsert on an external id is idempotent, so the request is safe to retry like the order POST.
 */
export async function upsertCustomers(
  caller: OrgCaller,
  customers: readonly ErpCustomer[]
): Promise<CustomerUpsert[]> {
  const outcomes: CustomerUpsert[] = [];
  for (let start = 0; start < customers.length; start += COLLECTION_LIMIT) {
    const chunk = customers.slice(start, start + COLLECTION_LIMIT);
    const body = JSON.stringify({
      allOrNone: false,
      records: chunk.map((c) => ({
        attributes: { type: 'Account' },
        Name: c.name,
        ERP_Customer_Number__c: c.customerNumber
      }))
    });
    let results: UpsertResult[] | undefined;
    let failure: string | undefined;
    try {
      const answer = await caller.call({
        method: 'PATCH',
        path: (session) => ACCOUNT_UPSERT_PATH(session.apiVersion),
        body
      });
      if (answer.status === 200 && Array.isArray(answer.json)) {
        results = answer.json as UpsertResult[];
      } else {
        failure = errorsOf(answer)
          .map((e) => e.message)
          .join('; ');
      }
    } catch (error) {
      failure = (error as Error).message;
    }
    chunk.forEach((customer, i) => {
      const result = results?.[i];
      outcomes.push(
        result === undefined
          ? {
              customerNumber: customer.customerNumber,
              success: false,
              created: false,
              errors: [failure ?? 'no result for this record']
            }
          : {
              customerNumber: customer.customerNumber,
              success: result.success,
              created: result.created === true,
              ...(result.id === undefined ? {} : { id: result.id }),
              errors: (result.errors ?? []).map(
                (e) => `${e.statusCode ?? 'ERROR'}: ${e.message ?? ''}`
              )
            }
      );
    });
  }
  return outcomes;
}
