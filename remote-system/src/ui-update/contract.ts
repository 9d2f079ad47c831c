/**
 * The names the ERP's half shares with the Salesforce half (`force-app/main/ui-update/`): the event's topic, its
 * fields and the statuses a shipment moves through. `remote-system/test/ui-update/drift.test.ts` checks them against
 * the contract static resource, the event's field XML and the LWC.
 */
export const EVENT_API_NAME = 'Shipment_Status_Changed__e';
export const DEFAULT_TOPIC = `/event/${EVENT_API_NAME}`;

/** Event field API names, by the ERP's name for the value. */
export const EVENT_FIELDS = {
  shipmentNumber: 'Shipment_Number__c',
  customerNumber: 'ERP_Customer_Number__c',
  status: 'Status__c',
  previousStatus: 'Previous_Status__c',
  carrier: 'Carrier__c',
  destinationCity: 'Destination_City__c',
  changedAt: 'Status_Changed_At__c',
  correlationId: 'Correlation_Id__c'
} as const;

/** The statuses of the ERP's `shipments.status` column (migration 3), in the order a shipment usually takes. */
export const SHIPMENT_STATUSES = [
  'Label Created',
  'In Transit',
  'Out for Delivery',
  'Delivered',
  'Exception',
  'Returned'
] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

/**
 * `CreatedById` is a required (non-null) field of every platform event's Avro schema, so a Pub/Sub API publisher must
 * send a value; Salesforce records the publishing user. This placeholder is what the simulator sends.
 */
export const PUBLISHER_USER_PLACEHOLDER = '005000000000000AAA';

/** One status change as the simulator records it. */
export interface ShipmentChange {
  readonly eventId: string;
  readonly shipmentNumber: string;
  readonly customerNumber: string;
  readonly status: ShipmentStatus;
  readonly previousStatus: ShipmentStatus | null;
  readonly carrier: string | null;
  readonly destinationCity: string | null;
  /** Epoch milliseconds. */
  readonly changedAt: number;
  readonly correlationId: string;
}

/** The event payload (Avro record) for a change, under the contract's field names. */
export function shipmentEventPayload(change: ShipmentChange): Record<string, unknown> {
  return {
    CreatedDate: change.changedAt,
    CreatedById: PUBLISHER_USER_PLACEHOLDER,
    [EVENT_FIELDS.shipmentNumber]: change.shipmentNumber,
    [EVENT_FIELDS.customerNumber]: change.customerNumber,
    [EVENT_FIELDS.status]: change.status,
    [EVENT_FIELDS.previousStatus]: change.previousStatus,
    [EVENT_FIELDS.carrier]: change.carrier,
    [EVENT_FIELDS.destinationCity]: change.destinationCity,
    [EVENT_FIELDS.changedAt]: change.changedAt,
    [EVENT_FIELDS.correlationId]: change.correlationId
  };
}
