import { createElement } from 'lwc';
import BatchSyncAdmin from 'c/batchSyncAdmin';
import status from '@salesforce/apex/BatchSyncAdminController.status';
import reprocessFailed from '@salesforce/apex/BatchSyncAdminController.reprocessFailed';
import runNow from '@salesforce/apex/BatchSyncAdminController.runNow';
import { SHOW_TOAST_EVENT_NAME } from 'lightning/platformShowToastEvent';

jest.mock('@salesforce/apex/BatchSyncAdminController.status', () => ({ default: jest.fn() }), {
  virtual: true
});
jest.mock(
  '@salesforce/apex/BatchSyncAdminController.reprocessFailed',
  () => ({ default: jest.fn() }),
  {
    virtual: true
  }
);
jest.mock('@salesforce/apex/BatchSyncAdminController.runNow', () => ({ default: jest.fn() }), {
  virtual: true
});

const mockStatus = status as unknown as jest.Mock;
const mockReprocess = reprocessFailed as unknown as jest.Mock;
const mockRunNow = runNow as unknown as jest.Mock;

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

async function render(): Promise<HTMLElement> {
  const element = createElement('c-batch-sync-admin', { is: BatchSyncAdmin });
  document.body.appendChild(element);
  await flush();
  return element;
}

function button(element: HTMLElement, selector: string): HTMLElement & { disabled: boolean } {
  const found = element.shadowRoot!.querySelector(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found as HTMLElement & { disabled: boolean };
}

describe('c-batch-sync-admin', () => {
  afterEach(() => {
    document.body.innerHTML = '';
    jest.resetAllMocks();
  });

  it('shows the open failures and reprocesses them, then refreshes', async () => {
    mockStatus.mockResolvedValueOnce({ openFailures: 3, running: false });
    mockStatus.mockResolvedValueOnce({ openFailures: 0, running: true });
    mockReprocess.mockResolvedValue('707000000000001AAA');
    const element = await render();
    expect(element.shadowRoot!.querySelector('.status')!.textContent).toBe('3 open failures.');
    expect(button(element, '.reprocess').disabled).toBe(false);

    const toasts: CustomEvent[] = [];
    element.addEventListener(SHOW_TOAST_EVENT_NAME, (e) => toasts.push(e as CustomEvent));
    button(element, '.reprocess').click();
    await flush();
    expect(mockReprocess).toHaveBeenCalledTimes(1);
    expect(toasts[0]!.detail).toMatchObject({ title: 'Reprocessing started', variant: 'success' });
    expect(element.shadowRoot!.querySelector('.status')!.textContent).toBe('A sync is running.');
    expect(button(element, '.run-now').disabled).toBe(true);
  });

  it('disables reprocessing when nothing failed and shows why a start was refused', async () => {
    mockStatus.mockResolvedValue({ openFailures: 0, running: false });
    mockRunNow.mockRejectedValue({
      body: { message: 'A sync is still running; try again when it has finished.' }
    });
    const element = await render();
    expect(button(element, '.reprocess').disabled).toBe(true);
    const toasts: CustomEvent[] = [];
    element.addEventListener(SHOW_TOAST_EVENT_NAME, (e) => toasts.push(e as CustomEvent));
    button(element, '.run-now').click();
    await flush();
    expect(toasts[0]!.detail).toMatchObject({ title: 'Not started', variant: 'error' });
    expect(toasts[0]!.detail.message).toContain('still running');
  });

  it('shows an error when the status cannot be read', async () => {
    mockStatus.mockRejectedValue({ body: { message: 'Insufficient access' } });
    const element = await render();
    expect(element.shadowRoot!.querySelector('.error')!.textContent).toBe('Insufficient access');
  });
});
