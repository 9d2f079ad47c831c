/**
 * Persists integration log events; the logic lives in IntegrationLogSubscriber.
 */
trigger IntegrationLogEventTrigger on Integration_Log_Event__e(after insert) {
  IntegrationLogSubscriber.onAfterInsert(Trigger.new);
}
