import { LightningElement } from 'lwc';
import { PATTERNS, STATUS, STATUS_LABELS } from './patterns';
import { DEFAULT_ANSWERS, QUESTIONS, recommend, relevantQuestions } from './advisor';

const BADGE_CLASSES = {
  [STATUS.AVAILABLE]: 'slds-badge slds-theme_success',
  [STATUS.PLANNED]: 'slds-badge slds-badge_lightest'
};

/**
 * Home page of the Integration Patterns app: lists each pattern with its business step, when to use
 * it, what each side does and whether this kit implements it yet, and a short advisor that recommends
 * a pattern from a few answers.
 */
export default class IntegrationPatternsHome extends LightningElement {
  patterns = PATTERNS.map((pattern) => ({
    ...pattern,
    statusLabel: STATUS_LABELS[pattern.status],
    badgeClass: BADGE_CLASSES[pattern.status]
  }));

  answers = { ...DEFAULT_ANSWERS };

  get summary() {
    const available = PATTERNS.filter((pattern) => pattern.status === STATUS.AVAILABLE).length;
    return `${available} of ${PATTERNS.length} patterns have a reference implementation in this kit.`;
  }

  get questions() {
    const relevant = relevantQuestions(this.answers);
    return QUESTIONS.map((question) => ({
      ...question,
      disabled: !relevant.has(question.id),
      options: question.options.map((option) => ({
        ...option,
        key: `${question.id}-${option.value}`,
        checked: this.answers[question.id] === option.value
      }))
    }));
  }

  get recommendation() {
    const { patternId, reason } = recommend(this.answers);
    const pattern = PATTERNS.find((candidate) => candidate.id === patternId);
    return { patternId, reason, name: pattern ? pattern.name : patternId };
  }

  handleAnswer(event) {
    const { name, value } = event.target;
    this.answers = { ...this.answers, [name]: value };
  }
}
