import { DEFAULT_ANSWERS, QUESTIONS, recommend, relevantQuestions } from '../advisor';
import { PATTERNS } from '../patterns';

describe('pattern advisor', () => {
  it.each([
    [{ goal: 'live' }, 'ui-update'],
    [{ goal: 'live', volume: 'bulk', initiator: 'remote' }, 'ui-update'],
    [{ goal: 'view' }, 'data-virtualization'],
    [{ goal: 'view', volume: 'bulk' }, 'data-virtualization'],
    [{ goal: 'exchange', volume: 'bulk' }, 'batch-sync'],
    [{ goal: 'exchange', volume: 'bulk', initiator: 'remote' }, 'batch-sync'],
    [{ goal: 'exchange', initiator: 'remote', volume: 'few' }, 'remote-call-in'],
    [{ goal: 'exchange', initiator: 'remote', timing: 'no-wait' }, 'remote-call-in'],
    [{ goal: 'exchange', initiator: 'salesforce', volume: 'few', timing: 'wait' }, 'request-reply'],
    [
      { goal: 'exchange', initiator: 'salesforce', volume: 'few', timing: 'no-wait' },
      'fire-and-forget'
    ]
  ])('recommends for %j: %s', (answers, expected) => {
    const { patternId, reason } = recommend(answers);

    expect(patternId).toBe(expected);
    expect(reason.length).toBeGreaterThan(40);
  });

  it('recommends Request and Reply for the default answers', () => {
    expect(recommend({}).patternId).toBe('request-reply');
    expect(recommend(DEFAULT_ANSWERS).patternId).toBe('request-reply');
  });

  it('only recommends patterns the home page lists', () => {
    const ids = new Set(PATTERNS.map((pattern) => pattern.id));
    for (const goal of ['exchange', 'view', 'live']) {
      for (const initiator of ['salesforce', 'remote']) {
        for (const volume of ['few', 'bulk']) {
          for (const timing of ['wait', 'no-wait']) {
            expect(ids.has(recommend({ goal, initiator, volume, timing }).patternId)).toBe(true);
          }
        }
      }
    }
  });

  it('asks only the questions that matter for the answers so far', () => {
    expect([...relevantQuestions({ goal: 'view' })]).toEqual(['goal']);
    expect([...relevantQuestions({ goal: 'live' })]).toEqual(['goal']);
    expect([...relevantQuestions({ goal: 'exchange', initiator: 'remote' })]).toEqual([
      'goal',
      'initiator',
      'volume'
    ]);
    expect([...relevantQuestions({ goal: 'exchange', volume: 'bulk' })]).toEqual([
      'goal',
      'initiator',
      'volume'
    ]);
    expect([...relevantQuestions(DEFAULT_ANSWERS)]).toEqual([
      'goal',
      'initiator',
      'volume',
      'timing'
    ]);
  });

  it('has a default answer among the options of every question', () => {
    for (const question of QUESTIONS) {
      const values = question.options.map((option) => option.value);
      expect(values).toContain(DEFAULT_ANSWERS[question.id as keyof typeof DEFAULT_ANSWERS]);
    }
  });
});
