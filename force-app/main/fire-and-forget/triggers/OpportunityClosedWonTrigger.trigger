/**
 * Fire and Forget publisher: Opportunities that become won raise Opportunity_Closed_Won__e (after commit).
 */
trigger OpportunityClosedWonTrigger on Opportunity(after insert, after update) {
  ClosedWonEventPublisher.afterSave(Trigger.new, Trigger.oldMap);
}
