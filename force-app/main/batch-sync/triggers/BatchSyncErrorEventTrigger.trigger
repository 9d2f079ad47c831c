/**
 * Records failed chunks of the ERP customer sync; the logic lives in BatchSyncErrorEvents.
 */
trigger BatchSyncErrorEventTrigger on BatchApexErrorEvent(after insert) {
  BatchSyncErrorEvents.onAfterInsert(Trigger.new);
}
