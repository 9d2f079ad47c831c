/**
 * The names that cross the boundary between the two halves of Fire and Forget, as the ERP uses them. The drift test
 * (`remote-system/test/fire-and-forget/drift.test.ts`) checks each against the contract static resource and the
 * Platform Event and Opportunity field metadata, so a rename on one side fails `npm test`.
 */
export const EVENT_API_NAME = 'Opportunity_Closed_Won__e';
export const DEFAULT_TOPIC = `/event/${EVENT_API_NAME}`;

/** Platform Event fields the ERP reads. */
export const EVENT_FIELDS = {
  opportunityId: 'Opportunity_Id__c',
  accountId: 'Account_Id__c',
  erpCustomerNumber: 'ERP_Customer_Number__c',
  amount: 'Amount__c',
  currencyIsoCode: 'Currency_Iso_Code__c',
  lineSummary: 'Line_Summary__c',
  lineCount: 'Line_Count__c',
  correlationId: 'Correlation_Id__c'
} as const;

/** Opportunity fields the ERP writes back. */
export const WRITE_BACK_FIELDS = {
  invoiceNumber: 'Invoice_Number__c',
  invoiceStatus: 'Invoice_Status__c',
  invoicedAt: 'Invoiced_At__c'
} as const;

/** The `Invoice_Status__c` value the ERP sets. */
export const INVOICED_STATUS = 'Invoiced';

/** What the ERP needs to invoice one closed-won Opportunity. */
export interface InvoiceRequest {
  readonly opportunityId: string;
  readonly accountId: string | null;
  readonly erpCustomerNumber: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly lineSummary: string | null;
  readonly correlationId: string | null;
}

/** A payload that can never be invoiced as it is (it goes to the dead-letter table). */
export class InvalidInvoiceEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInvoiceEvent';
  }
}

const SALESFORCE_ID = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;

/** Validates a decoded event payload. Unknown fields (a field added to the event later) are ignored. */
export function parseInvoiceRequest(payload: Record<string, unknown>): InvoiceRequest {
  const text = (field: string): string | null => {
    const value = payload[field];
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') throw new InvalidInvoiceEvent(`${field} must be text`);
    return value.trim() === '' ? null : value.trim();
  };
  const opportunityId = text(EVENT_FIELDS.opportunityId);
  if (opportunityId === null || !SALESFORCE_ID.test(opportunityId)) {
    throw new InvalidInvoiceEvent(`${EVENT_FIELDS.opportunityId} must be a Salesforce id`);
  }
  const erpCustomerNumber = text(EVENT_FIELDS.erpCustomerNumber);
  if (erpCustomerNumber === null) {
    throw new InvalidInvoiceEvent(
      `${EVENT_FIELDS.erpCustomerNumber} is missing (the Account has no ERP customer)`
    );
  }
  const amount = payload[EVENT_FIELDS.amount];
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
    throw new InvalidInvoiceEvent(`${EVENT_FIELDS.amount} must be a non-negative number`);
  }
  const currency = text(EVENT_FIELDS.currencyIsoCode);
  if (currency === null || !/^[A-Z]{3}$/.test(currency)) {
    throw new InvalidInvoiceEvent(`${EVENT_FIELDS.currencyIsoCode} must be an ISO 4217 code`);
  }
  return {
    opportunityId,
    accountId: text(EVENT_FIELDS.accountId),
    erpCustomerNumber,
    amountCents: Math.round(amount * 100),
    currency,
    lineSummary: text(EVENT_FIELDS.lineSummary),
    correlationId: text(EVENT_FIELDS.correlationId)
  };
}
