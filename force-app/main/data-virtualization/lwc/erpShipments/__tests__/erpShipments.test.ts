import { createElement } from 'lwc';
import ErpShipments from 'c/erpShipments';
import getShipments from '@salesforce/apex/ShipmentController.getShipments';
import { deferred, flushPromises as flush } from '../../../../../test/jest-utils/async';

jest.mock('@salesforce/apex/ShipmentController.getShipments', () => ({ default: jest.fn() }), {
  virtual: true
});

const mockGetShipments = getShipments as unknown as jest.Mock;
const ACCOUNT_ID = '001000000000001AAA';
const SEARCH_DELAY_MS = 400;

interface Row {
  shipmentNumber: string;
  status: string;
}

interface Page {
  rows: Row[];
  pageNumber: number;
  pageSize: number;
  hasNext: boolean;
  totalCount: number | null;
  offsetLimitReached: boolean;
  customerNumber: string;
  notice?: string;
}

function rows(from: number, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    shipmentNumber: `SHP-${String(from + i).padStart(10, '0')}`,
    status: 'In Transit'
  }));
}

function page(overrides: Partial<Page> = {}): Page {
  return {
    rows: rows(1, 10),
    pageNumber: 1,
    pageSize: 10,
    hasNext: true,
    totalCount: 1234,
    offsetLimitReached: false,
    customerNumber: 'C-000001',
    ...overrides
  };
}

function render(props: Record<string, unknown> = {}): HTMLElement {
  const element = createElement('c-erp-shipments', { is: ErpShipments });
  Object.assign(element, { recordId: ACCOUNT_ID, ...props });
  document.body.appendChild(element);
  return element;
}

function query<T extends Element = HTMLElement>(element: HTMLElement, id: string): T | null {
  return element.shadowRoot?.querySelector<T>(`[data-id="${id}"]`) ?? null;
}

function get<T extends Element = HTMLElement>(element: HTMLElement, id: string): T {
  const found = query<T>(element, id);
  if (!found) throw new Error(`no [data-id="${id}"]`);
  return found;
}

type Table = HTMLElement & { data: Row[]; sortedBy: string; sortedDirection: string };
type Button = HTMLElement & { disabled: boolean };

function lastCall(): Record<string, unknown> {
  const calls = mockGetShipments.mock.calls;
  return calls[calls.length - 1]?.[0] as Record<string, unknown>;
}

describe('c-erp-shipments', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
    jest.useRealTimers();
  });

  it('loads the first page newest first and shows the ERP total', async () => {
    mockGetShipments.mockResolvedValue(page());
    const element = render();
    await flush();

    expect(mockGetShipments).toHaveBeenCalledTimes(1);
    expect(lastCall()).toEqual({
      accountId: ACCOUNT_ID,
      searchTerm: null,
      sortBy: 'shippedAt',
      sortDirection: 'desc',
      pageSize: 10,
      pageNumber: 1
    });
    const table = get<Table>(element, 'table');
    expect(table.data.map((r) => r.shipmentNumber)).toEqual(
      rows(1, 10).map((r) => r.shipmentNumber)
    );
    expect(table.sortedBy).toBe('shippedAt');
    expect(table.sortedDirection).toBe('desc');
    expect(get(element, 'summary').textContent).toContain('1,234 shipments in the ERP');
    expect(get(element, 'page').textContent).toBe('Page 1');
    expect(get<Button>(element, 'previous').disabled).toBe(true);
    expect(get<Button>(element, 'next').disabled).toBe(false);
  });

  it('pages forward and back, one request per page, with the configured page size', async () => {
    mockGetShipments.mockResolvedValue(page());
    const element = render({ pageSize: 25 });
    await flush();

    mockGetShipments.mockResolvedValue(page({ rows: rows(26, 25), pageNumber: 2, hasNext: false }));
    get(element, 'next').click();
    await flush();
    expect(lastCall()).toMatchObject({ pageNumber: 2, pageSize: 25 });
    expect(get(element, 'page').textContent).toBe('Page 2');
    expect(get<Button>(element, 'next').disabled).toBe(true);
    expect(get<Button>(element, 'previous').disabled).toBe(false);

    get(element, 'next').click();
    await flush();
    expect(mockGetShipments).toHaveBeenCalledTimes(2);

    mockGetShipments.mockResolvedValue(page());
    get(element, 'previous').click();
    await flush();
    expect(lastCall()).toMatchObject({ pageNumber: 1 });
    expect(mockGetShipments).toHaveBeenCalledTimes(3);
  });

  it('sorting asks the ERP again from page 1', async () => {
    mockGetShipments.mockResolvedValue(page());
    const element = render();
    await flush();
    get(element, 'next').click();
    await flush();

    get(element, 'table').dispatchEvent(
      new CustomEvent('sort', { detail: { fieldName: 'status', sortDirection: 'asc' } })
    );
    await flush();

    expect(lastCall()).toMatchObject({ sortBy: 'status', sortDirection: 'asc', pageNumber: 1 });
    const table = get<Table>(element, 'table');
    expect(table.sortedBy).toBe('status');
    expect(table.sortedDirection).toBe('asc');
  });

  it('search waits for a pause in typing, then sends one request from page 1', async () => {
    jest.useFakeTimers();
    mockGetShipments.mockResolvedValue(page());
    const element = render();
    await flush();
    get(element, 'next').click();
    await flush();
    const before = mockGetShipments.mock.calls.length;

    mockGetShipments.mockResolvedValue(
      page({ totalCount: null, hasNext: false, rows: rows(7, 1) })
    );
    const search = get(element, 'search');
    for (const value of ['D', 'De', 'Del ']) {
      search.dispatchEvent(new CustomEvent('change', { detail: { value } }));
      jest.advanceTimersByTime(SEARCH_DELAY_MS - 1);
    }
    expect(mockGetShipments.mock.calls.length).toBe(before);
    jest.advanceTimersByTime(1);
    await flush();

    expect(mockGetShipments.mock.calls.length).toBe(before + 1);
    expect(lastCall()).toMatchObject({ searchTerm: 'Del', pageNumber: 1 });
    expect(get(element, 'summary').textContent).toContain('Matches for "Del"');
  });

  it('shows the ERP failure message and clears the rows', async () => {
    mockGetShipments.mockResolvedValue(page());
    const element = render();
    await flush();

    mockGetShipments.mockRejectedValue({
      body: { message: 'The ERP did not return the shipments (Read timed out).' }
    });
    get(element, 'refresh').click();
    await flush();

    expect(get(element, 'error').textContent).toContain('Read timed out');
    expect(get<Table>(element, 'table').data).toEqual([]);
    expect(get<Button>(element, 'next').disabled).toBe(true);

    mockGetShipments.mockResolvedValue(page());
    get(element, 'refresh').click();
    await flush();
    expect(query(element, 'error')).toBeNull();
  });

  it('explains an account without an ERP customer number', async () => {
    mockGetShipments.mockResolvedValue(
      page({
        rows: [],
        hasNext: false,
        totalCount: 0,
        customerNumber: '',
        notice: 'This account has no ERP customer number, so it has no ERP shipments.'
      })
    );
    const element = render();
    await flush();
    expect(get(element, 'notice').textContent).toContain('no ERP customer number');
    expect(get(element, 'summary').textContent).toContain('0 shipments');
  });

  it('stops at the 2,000-row OFFSET ceiling and says how to go further', async () => {
    mockGetShipments.mockResolvedValue(page({ offsetLimitReached: true }));
    const element = render();
    await flush();
    expect(get(element, 'offset-limit').textContent).toContain('first 2,000 shipments');
    expect(get<Button>(element, 'next').disabled).toBe(true);
  });

  it('drops a slow response that a newer request overtook', async () => {
    const slow = deferred<Page>();
    mockGetShipments.mockReturnValueOnce(slow.promise);
    const element = render();
    await flush();

    mockGetShipments.mockResolvedValueOnce(page({ rows: rows(500, 3) }));
    get(element, 'table').dispatchEvent(
      new CustomEvent('sort', { detail: { fieldName: 'carrier', sortDirection: 'asc' } })
    );
    await flush();
    slow.resolve(page({ rows: rows(1, 10) }));
    await flush();

    expect(get<Table>(element, 'table').data.map((r) => r.shipmentNumber)).toEqual(
      rows(500, 3).map((r) => r.shipmentNumber)
    );
  });
});
