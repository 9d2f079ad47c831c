import { LightningElement, api } from 'lwc';
import getShipments from '@salesforce/apex/ShipmentController.getShipments';
import { reduceError } from 'c/errorMessage';

/** Wait after the last keystroke before searching: each search is one OData callout to the ERP. */
export const SEARCH_DELAY_MS = 400;

const COLUMNS = [
  { label: 'Shipment', fieldName: 'shipmentNumber', sortable: true },
  { label: 'Status', fieldName: 'status', sortable: true },
  { label: 'Carrier', fieldName: 'carrier', sortable: true },
  {
    label: 'Shipped',
    fieldName: 'shippedAt',
    type: 'date',
    sortable: true,
    typeAttributes: {
      year: 'numeric',
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit'
    }
  },
  {
    // Edm.Date arrives as a DateTime at 00:00 GMT: show the date in UTC so it never shifts a day.
    label: 'Est. delivery',
    fieldName: 'estimatedDelivery',
    type: 'date',
    sortable: true,
    typeAttributes: { year: 'numeric', month: 'short', day: '2-digit', timeZone: 'UTC' }
  },
  { label: 'Delivered', fieldName: 'deliveredAt', type: 'date', sortable: true },
  { label: 'Destination', fieldName: 'destinationCity', sortable: true },
  { label: 'Weight (kg)', fieldName: 'weightKg', type: 'number', sortable: true },
  { label: 'Declared value', fieldName: 'declaredValue', type: 'number', sortable: true },
  { label: 'Insured', fieldName: 'isInsured', type: 'boolean' }
];

/**
 * An Account's ERP shipments, read live through the external object Shipment__x: every page, sort and search is one
 * OData request from Salesforce Connect to the ERP, so nothing here is cached and a slow ERP shows as a slow list.
 */
export default class ErpShipments extends LightningElement {
  @api recordId;
  @api pageSize = 10;

  columns = COLUMNS;
  rows = [];
  pageNumber = 1;
  sortedBy = 'shippedAt';
  sortDirection = 'desc';
  searchTerm = '';
  totalCount;
  hasNext = false;
  offsetLimitReached = false;
  notice;
  errorMessage;
  isLoading = false;

  requestSequence = 0;
  searchTimer;

  connectedCallback() {
    this.load();
  }

  disconnectedCallback() {
    clearTimeout(this.searchTimer);
  }

  get previousDisabled() {
    return this.isLoading || this.pageNumber <= 1;
  }

  get nextDisabled() {
    return this.isLoading || !this.hasNext || this.offsetLimitReached;
  }

  get summary() {
    if (this.totalCount === undefined || this.totalCount === null) {
      return this.searchTerm ? `Matches for "${this.searchTerm}"` : '';
    }
    const noun = this.totalCount === 1 ? 'shipment' : 'shipments';
    return `${this.totalCount.toLocaleString()} ${noun} in the ERP`;
  }

  /** Asks for the current page; a response that arrives after a newer request started is dropped. */
  async load() {
    const sequence = ++this.requestSequence;
    this.isLoading = true;
    this.errorMessage = undefined;
    try {
      const page = await getShipments({
        accountId: this.recordId,
        searchTerm: this.searchTerm || null,
        sortBy: this.sortedBy,
        sortDirection: this.sortDirection,
        pageSize: this.pageSize,
        pageNumber: this.pageNumber
      });
      if (sequence !== this.requestSequence) return;
      this.rows = page.rows || [];
      this.totalCount = page.totalCount;
      this.hasNext = page.hasNext === true;
      this.offsetLimitReached = page.offsetLimitReached === true;
      this.notice = page.notice;
    } catch (error) {
      if (sequence !== this.requestSequence) return;
      this.rows = [];
      this.hasNext = false;
      this.errorMessage = reduceError(error);
    } finally {
      if (sequence === this.requestSequence) this.isLoading = false;
    }
  }

  handleSort(event) {
    this.sortedBy = event.detail.fieldName;
    this.sortDirection = event.detail.sortDirection;
    this.pageNumber = 1;
    this.load();
  }

  handleSearchChange(event) {
    this.searchTerm = (event.detail.value || '').trim();
    clearTimeout(this.searchTimer);
    // Debounced on purpose: one ERP callout per pause in typing, not per keystroke.
    // eslint-disable-next-line @lwc/lwc/no-async-operation
    this.searchTimer = setTimeout(() => {
      this.pageNumber = 1;
      this.load();
    }, SEARCH_DELAY_MS);
  }

  handlePrevious() {
    if (this.pageNumber > 1) {
      this.pageNumber -= 1;
      this.load();
    }
  }

  handleNext() {
    if (!this.nextDisabled) {
      this.pageNumber += 1;
      this.load();
    }
  }

  handleRefresh() {
    this.load();
  }
}
