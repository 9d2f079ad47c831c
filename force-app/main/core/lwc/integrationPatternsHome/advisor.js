/**
 * Pattern advisor: a few questions from the decision guide of Salesforce's Integration Patterns and
 * Practices (timing, direction, volume, data ownership, user interface) and a pure function that turns
 * the answers into a recommended pattern with the reason. Kept free of the component so it is easy to
 * read and to test.
 */

export const QUESTIONS = Object.freeze([
  {
    id: 'goal',
    legend: 'What does the business step need?',
    options: [
      { value: 'exchange', label: 'Move records or requests between Salesforce and the ERP' },
      { value: 'view', label: 'Show ERP data in Salesforce without storing it' },
      { value: 'live', label: 'Show ERP changes on an open page as they happen' }
    ]
  },
  {
    id: 'initiator',
    legend: 'Which system starts the exchange?',
    options: [
      { value: 'salesforce', label: 'Salesforce' },
      { value: 'remote', label: 'The ERP or another remote system' }
    ]
  },
  {
    id: 'volume',
    legend: 'How many records per run?',
    options: [
      { value: 'few', label: 'A few, per user action or business event' },
      { value: 'bulk', label: 'Thousands to millions' }
    ]
  },
  {
    id: 'timing',
    legend: 'Must the caller wait for the answer?',
    options: [
      { value: 'wait', label: 'Yes, the user or process needs the reply now' },
      { value: 'no-wait', label: 'No, it carries on and the result arrives later' }
    ]
  }
]);

export const DEFAULT_ANSWERS = Object.freeze({
  goal: 'exchange',
  initiator: 'salesforce',
  volume: 'few',
  timing: 'wait'
});

const REASONS = Object.freeze({
  'ui-update':
    'Streaming pushes each change to the open page (a platform event or Change Data Capture channel through lightning/empApi); polling would spend API calls and still lag.',
  'data-virtualization':
    'Salesforce Connect reads the rows on demand over OData 4.0, so nothing is copied and nothing goes stale; queries are bounded by server paging and a 120 s timeout.',
  'batch-sync':
    'Volumes this size belong in scheduled batches: Batch Apex with callouts from Salesforce, or Bulk API 2.0 jobs from the remote side, with failed records reprocessed.',
  'remote-call-in':
    'The remote system calls Salesforce with OAuth 2.0: standard REST or Composite for plain records, Apex REST for custom logic; the caller owns retries, so the endpoint must be idempotent.',
  'request-reply':
    'A synchronous callout through the ERP Named Credential, as a Continuation so the page stays responsive; keep it short, because callouts time out at 120 s at most.',
  'fire-and-forget':
    'A platform event published after commit; the ERP subscribes, processes it on its own schedule and replays what it missed, so an ERP outage does not block Salesforce.'
});

/**
 * Recommends a pattern for the answers; questions that do not matter for the goal are ignored.
 * @param {{goal?: string, initiator?: string, volume?: string, timing?: string}} answers
 * @returns {{patternId: string, reason: string}}
 */
export function recommend(answers) {
  const { goal, initiator, volume, timing } = { ...DEFAULT_ANSWERS, ...answers };
  let patternId;
  if (goal === 'live') {
    patternId = 'ui-update';
  } else if (goal === 'view') {
    patternId = 'data-virtualization';
  } else if (volume === 'bulk') {
    patternId = 'batch-sync';
  } else if (initiator === 'remote') {
    patternId = 'remote-call-in';
  } else if (timing === 'wait') {
    patternId = 'request-reply';
  } else {
    patternId = 'fire-and-forget';
  }
  return { patternId, reason: REASONS[patternId] };
}

/**
 * The questions that matter for the answers so far (the others are shown disabled).
 * @param {{goal?: string, initiator?: string, volume?: string, timing?: string}} answers
 * @returns {Set<string>} question ids
 */
export function relevantQuestions(answers) {
  const { goal, initiator, volume } = { ...DEFAULT_ANSWERS, ...answers };
  const relevant = new Set(['goal']);
  if (goal !== 'exchange') {
    return relevant;
  }
  relevant.add('initiator');
  relevant.add('volume');
  if (initiator === 'salesforce' && volume === 'few') {
    relevant.add('timing');
  }
  return relevant;
}
