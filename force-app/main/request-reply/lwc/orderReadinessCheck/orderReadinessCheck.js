import { LightningElement, api, wire } from 'lwc';
import { getRecord, getFieldValue } from 'lightning/uiRecordApi';
import checkCredit from '@salesforce/apexContinuation/RequestReplyController.checkCredit';
import checkOrderReadiness from '@salesforce/apexContinuation/RequestReplyController.checkOrderReadiness';
import OPPORTUNITY_ACCOUNT_ID from '@salesforce/schema/Opportunity.AccountId';
import OPPORTUNITY_AMOUNT from '@salesforce/schema/Opportunity.Amount';
import { reduceError } from 'c/errorMessage';

const OPPORTUNITY_FIELDS = [OPPORTUNITY_ACCOUNT_ID, OPPORTUNITY_AMOUNT];

const DECISION_LABELS = {
  APPROVED: 'Credit approved',
  REVIEW: 'Credit needs review',
  DECLINED: 'Credit declined'
};

const STOCK_LABELS = {
  IN_STOCK: 'In stock',
  PARTIAL: 'Partly in stock',
  OUT_OF_STOCK: 'Out of stock'
};

/**
 * Request and Reply on a record page: asks the ERP, through Apex Continuations, for a credit decision
 * (Account and Opportunity pages) or for credit, stock and prices at once (Opportunity pages), and
 * shows the answer or a message the rep can act on.
 *
 * Only one check runs at a time: the framework processes Continuation actions from a client one after
 * the other anyway, and a second click while the first check runs would only queue a duplicate call.
 */
export default class OrderReadinessCheck extends LightningElement {
  @api recordId;
  @api objectApiName;

  isRunning = false;
  credit;
  readiness;
  errorMessage;
  opportunity;

  @wire(getRecord, { recordId: '$opportunityId', fields: OPPORTUNITY_FIELDS })
  wiredOpportunity({ data, error }) {
    if (data) {
      this.opportunity = data;
    } else if (error) {
      this.opportunity = undefined;
      this.errorMessage = reduceError(error);
    }
  }

  /** The record id when the component sits on an Opportunity; undefined keeps the wire idle elsewhere. */
  get opportunityId() {
    return this.isOpportunity ? this.recordId : undefined;
  }

  get isOpportunity() {
    return this.objectApiName === 'Opportunity';
  }

  get accountId() {
    if (!this.isOpportunity) {
      return this.recordId;
    }
    return this.opportunity ? getFieldValue(this.opportunity, OPPORTUNITY_ACCOUNT_ID) : undefined;
  }

  get amount() {
    if (!this.isOpportunity || !this.opportunity) {
      return null;
    }
    const value = getFieldValue(this.opportunity, OPPORTUNITY_AMOUNT);
    return value === undefined ? null : value;
  }

  get creditDisabled() {
    return this.isRunning || !this.accountId;
  }

  get readinessDisabled() {
    return this.isRunning || !this.recordId;
  }

  get hasCredit() {
    return Boolean(this.credit);
  }

  get hasReadiness() {
    return Boolean(this.readiness);
  }

  get hasError() {
    return Boolean(this.errorMessage);
  }

  get statusText() {
    return this.isRunning ? 'Waiting for the ERP…' : '';
  }

  get creditView() {
    return this.credit ? describeCredit(this.credit) : undefined;
  }

  get readinessView() {
    const readiness = this.readiness;
    if (!readiness) {
      return undefined;
    }
    return {
      ready: readiness.ready,
      headline: readiness.ready ? 'Ready to order' : 'Not ready to order',
      headlineClass: readiness.ready ? 'slds-text-color_success' : 'slds-text-color_error',
      issues: (readiness.issues || []).map((text, index) => ({ key: `issue-${index}`, text })),
      hasIssues: (readiness.issues || []).length > 0,
      credit: readiness.credit ? describeCredit(readiness.credit) : undefined,
      stockLines: readiness.stock
        ? readiness.stock.lines.map((line) => ({
            key: line.productCode,
            label: `${line.productName} (${line.productCode})`,
            detail: `${STOCK_LABELS[line.status] || line.status}: ${line.available} available, ${line.requestedQuantity} requested`
          }))
        : [],
      hasStock: Boolean(readiness.stock),
      pricing: readiness.pricing,
      hasPricing: Boolean(readiness.pricing),
      reference: readiness.correlationId
    };
  }

  handleCheckCredit() {
    this.run(
      () => checkCredit({ accountId: this.accountId, amount: this.amount }),
      (result) => {
        this.credit = result;
      }
    );
  }

  handleCheckReadiness() {
    this.run(
      () => checkOrderReadiness({ opportunityId: this.recordId }),
      (result) => {
        this.readiness = result;
      }
    );
  }

  /** Runs one check; ignores clicks while one is in flight. */
  async run(call, onResult) {
    if (this.isRunning) {
      return;
    }
    this.isRunning = true;
    this.errorMessage = undefined;
    this.credit = undefined;
    this.readiness = undefined;
    try {
      onResult(await call());
    } catch (error) {
      this.errorMessage = reduceError(error);
    } finally {
      this.isRunning = false;
    }
  }
}

function describeCredit(credit) {
  return {
    decision: DECISION_LABELS[credit.decision] || credit.decision,
    decisionClass:
      credit.decision === 'APPROVED'
        ? 'slds-text-color_success'
        : credit.decision === 'DECLINED'
          ? 'slds-text-color_error'
          : 'slds-text-color_weak',
    reason: credit.reason,
    customerName: credit.customerName,
    currencyCode: credit.currencyCode,
    availableCredit: credit.availableCredit,
    creditLimit: credit.creditLimit,
    requestedAmount: credit.requestedAmount
  };
}
