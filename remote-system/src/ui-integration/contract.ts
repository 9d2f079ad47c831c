/**
 * Names that cross the boundary between the canvas page and the Salesforce half
 * (`force-app/main/ui-integration/`). The same names are written in the contract examples
 * (`staticresources/UiIntegrationContract.json`), and `remote-system/test/ui-integration/drift.test.ts` fails when one
 * side renames one of them.
 */

/** Path of the canvas page under the server (the External Client App's `canvasUrl` is `REMOTE_SYSTEM_URL` + this). */
export const CANVAS_PATH = '/ui-integration/canvas';

/** The Visualforce host passes the record id as this canvas parameter (`apex:canvasApp parameters`). */
export const RECORD_ID_PARAMETER = 'recordId';

/** The Opportunity fields the page writes with the user's token. */
export const WRITE_BACK_FIELDS = {
  price: 'ERP_Quoted_Price__c',
  basis: 'ERP_Pricing_Basis__c'
} as const;

/** The sObject the page writes to. */
export const WRITE_BACK_OBJECT = 'Opportunity';

/**
 * The Canvas event the page publishes after a successful write-back; the Visualforce host subscribes to it. The
 * payload keys are {@link PRICE_CHOSEN_KEYS}.
 */
export const PRICE_CHOSEN_EVENT = 'erp.priceChosen';
export const PRICE_CHOSEN_KEYS = ['recordId', 'price', 'currency', 'basis'] as const;

export interface PriceChosenPayload {
  readonly recordId: string;
  readonly price: number;
  readonly currency: string;
  readonly basis: string;
}
