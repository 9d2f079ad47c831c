/**
 * Event-Driven Architecture, in-org subscriber of the Account change stream: keeps a marker of the last change per
 * Account (AccountChangeMarker).
 */
trigger AccountChangeEventTrigger on AccountChangeEvent(after insert) {
  AccountChangeMarker.record(Trigger.new);
}
