/**
 * Fire and Forget Apex subscriber: marks Opportunities sent to the ERP (batch size and running user in
 * PlatformEventSubscriberConfigs/OpportunityClosedWonEventTrigger).
 */
trigger OpportunityClosedWonEventTrigger on Opportunity_Closed_Won__e(after insert) {
  ClosedWonSubscriber.handle(Trigger.new);
}
