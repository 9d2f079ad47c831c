/**
 * The integration patterns of this kit, as shown on the app's home page. One entry per pattern folder
 * (`force-app/main/<id>/` and `remote-system/src/<id>/`). Kept in one small module so the page, its
 * tests and anyone reading the code see the same list.
 */

/** Implementation status of a pattern in this kit. */
export const STATUS = Object.freeze({
  AVAILABLE: 'available',
  PLANNED: 'planned'
});

/** Text shown for each status. */
export const STATUS_LABELS = Object.freeze({
  [STATUS.AVAILABLE]: 'In this kit',
  [STATUS.PLANNED]: 'Planned'
});

export const PATTERNS = Object.freeze([
  {
    id: 'request-reply',
    name: 'Request and Reply',
    businessStep: "A sales rep checks a customer's credit and the stock before closing a deal.",
    whenToUse:
      'Salesforce needs an answer from the remote system now, while the user waits, and the answer is small and fast.',
    salesforceSide:
      'Lightning web component calling Apex that returns a Continuation through the ERP Named Credential.',
    remoteSide: 'Credit and inventory HTTP API with latency and fault controls.',
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
      'Large volumes must match on both sides, but minutes or hours of delay are acceptable.',
    salesforceSide:
      'Scheduled Batch Apex with callouts, external-id upserts and failed-record reprocessing.',
    remoteSide: 'Paged catalog API and a Bulk API 2.0 loader for millions of rows.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'remote-call-in',
    name: 'Remote Call-In',
    businessStep: 'The web shop pushes orders into Salesforce; partners look up order status.',
    whenToUse:
      'The remote system creates, reads or updates Salesforce data; standard APIs for plain records, Apex REST for custom logic.',
    salesforceSide:
      'Versioned Apex REST resource with validation and idempotent upsert on the external order number.',
    remoteSide: 'OAuth 2.0 client calling the Apex REST resource and the Composite API.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'ui-update',
    name: 'UI Update Based on Data Changes',
    businessStep: 'Shipment status changes appear live on the account page.',
    whenToUse: 'Users must see changes made elsewhere without refreshing the page.',
    salesforceSide:
      'Lightning web component subscribed with lightning/empApi to a platform event and a change event channel.',
    remoteSide: 'Shipment simulator publishing status events through the Pub/Sub API.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'data-virtualization',
    name: 'Data Virtualization',
    businessStep: 'Reps see years of shipments without storing them in Salesforce.',
    whenToUse:
      'Data stays in the remote system; users need to read it on demand, and copying it would be too big or too stale.',
    salesforceSide:
      'Salesforce Connect OData 4.0 external data source and the Shipment__x external object.',
    remoteSide:
      'OData 4.0 producer over millions of rows with filtering, sorting, paging and counts.',
    status: STATUS.AVAILABLE
  },
  {
    id: 'ui-integration',
    name: 'UI Integration',
    businessStep: "The ERP's pricing tool is shown inside Salesforce.",
    whenToUse:
      'An existing remote user interface is worth embedding instead of rebuilding it in Salesforce.',
    salesforceSide: 'Canvas app defined by External Client App canvas settings.',
    remoteSide: 'Canvas page that verifies the signed request before it trusts anything.',
    status: STATUS.PLANNED
  },
  {
    id: 'event-driven',
    name: 'Event-Driven Architecture',
    businessStep: 'One "order placed" event reaches several consumers.',
    whenToUse: 'Several independent systems react to the same business event.',
    salesforceSide: 'The same platform event consumed by Apex, Flow and a Lightning web component.',
    remoteSide: 'Independent subscribers, each with its own checkpoint.',
    status: STATUS.PLANNED
  }
]);
