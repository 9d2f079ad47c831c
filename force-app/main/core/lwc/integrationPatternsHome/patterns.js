/**
 * The integration patterns of this kit, as the app home page and its advisor show them.
 *
 * GENERATED from config/patterns.json by `npm run patterns:sync`: edit the manifest, not this file.
 * A pattern is `available` when both halves, its docs and its tests are in the kit; `planned` ones are
 * listed so the page shows the whole catalogue, marked as not built yet.
 */

/** Implementation status of a pattern in this kit. */
export const STATUS = Object.freeze({ AVAILABLE: 'available', PLANNED: 'planned' });

/** Text shown for each status. */
export const STATUS_LABELS = Object.freeze({
  [STATUS.AVAILABLE]: 'In this kit',
  [STATUS.PLANNED]: 'Planned'
});

export const PATTERNS = Object.freeze([
  {
    id: 'remote-call-in',
    name: 'Remote Call-In',
    businessStep: 'The web shop pushes orders into Salesforce; partners look up order status.',
    whenToUse:
      'The remote system creates, reads or updates Salesforce data: standard APIs for plain records, Apex REST for custom logic.',
    salesforceSide:
      'Versioned Apex REST resource with validation and an idempotent upsert on the external order number.',
    remoteSide: 'OAuth 2.0 client calling the Apex REST resource and the Composite API.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'request-reply',
    name: 'Request and Reply',
    businessStep:
      "A rep checks a customer's credit, stock and prices before committing to an order.",
    whenToUse:
      'Salesforce needs a small answer from the remote system now, while the user waits for it.',
    salesforceSide:
      'Lightning web component calling Apex that returns a Continuation (one or three parallel callouts through the ERP Named Credential); an External Service for Flow.',
    remoteSide:
      'Credit, stock and pricing HTTP API with latency and fault knobs, and its OpenAPI 3 document.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'fire-and-forget',
    name: 'Fire and Forget',
    businessStep: 'An opportunity closed won makes the ERP create the invoice.',
    whenToUse:
      'Salesforce tells the remote system something happened and does not wait; the remote system may be slow or offline.',
    salesforceSide:
      'Platform event published after commit, with publish callbacks and a retrying Apex subscriber.',
    remoteSide:
      'Pub/Sub API subscriber with a durable replay checkpoint and idempotent processing.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'batch-sync',
    name: 'Batch Data Synchronization',
    businessStep: 'Products, inventory and customers are synchronised every night.',
    whenToUse:
      'Large volumes must match on both sides, and minutes or hours of delay are acceptable.',
    salesforceSide:
      'Scheduled Batch Apex with callouts, external-id upserts and reprocessing of failed records.',
    remoteSide: 'Paged catalog API and a Bulk API 2.0 loader for millions of rows.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'data-virtualization',
    name: 'Data Virtualization',
    businessStep: 'Reps see years of shipments without storing them in Salesforce.',
    whenToUse:
      'The data stays in the remote system and users read it on demand; a copy would be too big or too stale.',
    salesforceSide:
      'Salesforce Connect OData 4.0 External Data Source, the Shipment__x External Object with an indirect lookup to Account, and a Lightning web component that pages through it.',
    remoteSide:
      'OData 4.0 producer over millions of rows: filtering, sorting, search, counts and server-driven paging.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'ui-update',
    name: 'UI Update Based on Data Changes',
    businessStep: 'Shipment status changes appear live on the account page.',
    whenToUse: 'Users must see changes made elsewhere without reloading the page.',
    salesforceSide:
      'Lightning web component subscribed with lightning/empApi to a platform event and a change event channel.',
    remoteSide: 'Shipment simulator publishing status events through the Pub/Sub API.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'ui-integration',
    name: 'UI Integration',
    businessStep: "The ERP's pricing tool is shown inside Salesforce.",
    whenToUse:
      'An existing remote user interface is worth embedding instead of rebuilding it in Salesforce.',
    salesforceSide:
      "Canvas app defined by External Client App canvas settings (Signed Request, admin-approved users), hosted on the Opportunity page by a Visualforce apex:canvasApp that reacts to the app's event.",
    remoteSide:
      "Canvas page that verifies the signed request (HMAC-SHA256, constant time) before it trusts anything, then writes the ERP's price back with the user's own token.",
    status: STATUS.AVAILABLE
  },
  {
    id: 'event-driven',
    name: 'Event-Driven Architecture',
    businessStep:
      'One "customer changed" stream reaches the ERP customer master, marketing segments and analytics.',
    whenToUse: 'Several independent systems react to the same business event.',
    salesforceSide:
      'Change Data Capture on Account over a custom channel (enriched fields, filter expression) and an Apex change event trigger.',
    remoteSide:
      'Three independent Pub/Sub API subscribers, each with its own checkpoint, retries and dead letters; gap events re-read through REST.',
    status: STATUS.AVAILABLE
  }
]);
