import { createElement } from 'lwc';
import OrderReadinessCheck from 'c/orderReadinessCheck';
import { getRecord } from 'lightning/uiRecordApi';
import checkCredit from '@salesforce/apexContinuation/RequestReplyController.checkCredit';
import checkOrderReadiness from '@salesforce/apexContinuation/RequestReplyController.checkOrderReadiness';
import contract from '../../../staticresources/RequestReplyContract.json';
import { deferred, flushPromises as flush } from '../../../../../test/jest-utils/async';

jest.mock(
  '@salesforce/apexContinuation/RequestReplyController.checkCredit',
  () => ({ default: jest.fn() }),
  { virtual: true }
);
jest.mock(
  '@salesforce/apexContinuation/RequestReplyController.checkOrderReadiness',
  () => ({ default: jest.fn() }),
  { virtual: true }
);

const mockCheckCredit = checkCredit as unknown as jest.Mock;
const mockCheckReadiness = checkOrderReadiness as unknown as jest.Mock;
const getRecordAdapter = getRecord as unknown as {
  emit: (value: unknown) => void;
  error: () => void;
};

const ACCOUNT_ID = '001000000000001AAA';
const OPPORTUNITY_ID = '006000000000001AAA';
/** The callback returns the ERP reply parsed into Apex types: the same fields as the contract example. */
const CREDIT_APPROVED = contract.examples.creditApproved.body;

function render(objectApiName: 'Account' | 'Opportunity', recordId: string): HTMLElement {
  const element = createElement('c-order-readiness-check', { is: OrderReadinessCheck });
  Object.assign(element, { objectApiName, recordId });
  document.body.appendChild(element);
  return element;
}

function shadow(element: HTMLElement): ShadowRoot {
  if (!element.shadowRoot) throw new Error('no shadow root');
  return element.shadowRoot;
}

function button(element: HTMLElement, selector: string): HTMLElement & { disabled: boolean } {
  const found = shadow(element).querySelector(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found as HTMLElement & { disabled: boolean };
}

function text(element: HTMLElement, selector: string): string | undefined {
  return shadow(element).querySelector(selector)?.textContent ?? undefined;
}

describe('c-order-readiness-check', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  it('checks credit on an Account: spinner while waiting, then the decision in a live region', async () => {
    const pending = deferred<unknown>();
    mockCheckCredit.mockReturnValue(pending.promise);
    const element = render('Account', ACCOUNT_ID);

    button(element, 'lightning-button.check-credit').click();
    await flush();

    expect(mockCheckCredit).toHaveBeenCalledWith({ accountId: ACCOUNT_ID, amount: null });
    expect(shadow(element).querySelector('lightning-spinner')).not.toBeNull();
    expect(button(element, 'lightning-button.check-credit').disabled).toBe(true);
    expect(text(element, '.status')).toBe('Waiting for the ERP…');

    pending.resolve(CREDIT_APPROVED);
    await flush();

    expect(shadow(element).querySelector('lightning-spinner')).toBeNull();
    const results = shadow(element).querySelector('.results');
    expect(results?.getAttribute('aria-live')).toBe('polite');
    expect(text(element, '.results .decision')).toBe('Credit approved');
    expect(text(element, '.results .reason')).toBe(CREDIT_APPROVED.reason);
    const available = shadow(element).querySelector(
      '.available lightning-formatted-number'
    ) as unknown as {
      value: number;
      currencyCode: string;
    };
    expect(available.value).toBe(CREDIT_APPROVED.availableCredit);
    expect(available.currencyCode).toBe(CREDIT_APPROVED.currencyCode);
    expect(button(element, 'lightning-button.check-credit').disabled).toBe(false);
    // Only Opportunities get the three-callout check.
    expect(shadow(element).querySelector('lightning-button.check-readiness')).toBeNull();
  });

  it('shows the ERP error message as an alert', async () => {
    const message =
      'Customer C-999999 is not known to the ERP. Reference: 0b6f1c1e-6a1e-4e8e-9a53-3d1f5b2a9c10';
    mockCheckCredit.mockRejectedValue({ body: { message }, status: 500 });
    const element = render('Account', ACCOUNT_ID);

    button(element, 'lightning-button.check-credit').click();
    await flush();

    const alert = shadow(element).querySelector('[role="alert"]');
    expect(alert?.textContent).toBe(message);
    expect(shadow(element).querySelector('.results section')).toBeNull();
    expect(shadow(element).querySelector('lightning-spinner')).toBeNull();
  });

  it('shows a timeout and lets the rep try again', async () => {
    mockCheckCredit.mockRejectedValueOnce({
      body: {
        message: 'The ERP credit check did not answer within 20 seconds. Try again in a moment.'
      }
    });
    mockCheckCredit.mockResolvedValueOnce(CREDIT_APPROVED);
    const element = render('Account', ACCOUNT_ID);

    button(element, 'lightning-button.check-credit').click();
    await flush();
    expect(text(element, '[role="alert"]')).toContain('did not answer within 20 seconds');

    button(element, 'lightning-button.check-credit').click();
    await flush();
    expect(shadow(element).querySelector('[role="alert"]')).toBeNull();
    expect(text(element, '.decision')).toBe('Credit approved');
    expect(mockCheckCredit).toHaveBeenCalledTimes(2);
  });

  it('does not start a second continuation on a double click', async () => {
    const pending = deferred<unknown>();
    mockCheckCredit.mockReturnValue(pending.promise);
    const element = render('Account', ACCOUNT_ID);
    const credit = button(element, 'lightning-button.check-credit');

    credit.click();
    credit.click();
    await flush();
    credit.click();

    expect(mockCheckCredit).toHaveBeenCalledTimes(1);
    pending.resolve(CREDIT_APPROVED);
    await flush();
    expect(mockCheckCredit).toHaveBeenCalledTimes(1);
  });

  it('on an Opportunity, checks the credit of its Account for its amount', async () => {
    mockCheckCredit.mockResolvedValue(CREDIT_APPROVED);
    const element = render('Opportunity', OPPORTUNITY_ID);
    expect(button(element, 'lightning-button.check-credit').disabled).toBe(true);

    getRecordAdapter.emit({
      apiName: 'Opportunity',
      id: OPPORTUNITY_ID,
      fields: { AccountId: { value: ACCOUNT_ID }, Amount: { value: 25000 } }
    });
    await flush();
    button(element, 'lightning-button.check-credit').click();
    await flush();

    expect(mockCheckCredit).toHaveBeenCalledWith({ accountId: ACCOUNT_ID, amount: 25000 });
  });

  it('on an Opportunity, shows readiness with issues, stock lines and the quote total', async () => {
    const pending = deferred<unknown>();
    mockCheckReadiness.mockReturnValue(pending.promise);
    const element = render('Opportunity', OPPORTUNITY_ID);

    button(element, 'lightning-button.check-readiness').click();
    button(element, 'lightning-button.check-readiness').click();
    await flush();
    expect(mockCheckReadiness).toHaveBeenCalledTimes(1);
    expect(mockCheckReadiness).toHaveBeenCalledWith({ opportunityId: OPPORTUNITY_ID });
    expect(button(element, 'lightning-button.check-credit').disabled).toBe(true);

    pending.resolve({
      ready: false,
      credit: CREDIT_APPROVED,
      stock: contract.examples.stockCheck.body,
      pricing: contract.examples.priceQuote.body,
      failures: [],
      issues: ['Valve Kit (P-00002): 0 of 5 available'],
      correlationId: 'corr-42'
    });
    await flush();

    expect(text(element, '.headline')).toBe('Not ready to order');
    expect(text(element, '.issues li')).toBe('Valve Kit (P-00002): 0 of 5 available');
    expect(shadow(element).querySelectorAll('.stock li')).toHaveLength(2);
    expect(text(element, '.readiness-credit')).toBe('Credit approved');
    const total = shadow(element).querySelector('.total lightning-formatted-number') as unknown as {
      value: number;
    };
    expect(total.value).toBe(contract.examples.priceQuote.body.total);
    expect(text(element, '.reference')).toBe('Reference: corr-42');
  });

  it('reports a failed check next to the answers that arrived', async () => {
    mockCheckReadiness.mockResolvedValue({
      ready: false,
      credit: CREDIT_APPROVED,
      failures: [
        {
          check: 'stock',
          kind: 'TIMEOUT',
          message: 'The ERP stock check did not answer within 20 seconds.'
        }
      ],
      issues: ['The ERP stock check did not answer within 20 seconds.'],
      correlationId: 'corr-43'
    });
    const element = render('Opportunity', OPPORTUNITY_ID);

    button(element, 'lightning-button.check-readiness').click();
    await flush();

    expect(text(element, '.issues li')).toContain('did not answer within 20 seconds');
    expect(text(element, '.readiness-credit')).toBe('Credit approved');
    expect(shadow(element).querySelector('.stock')).toBeNull();
  });

  it('shows the wire error when the Opportunity cannot be read', async () => {
    const element = render('Opportunity', OPPORTUNITY_ID);
    getRecordAdapter.error();
    await flush();
    expect(shadow(element).querySelector('[role="alert"]')).not.toBeNull();
  });
});
