import { LightningElement } from 'lwc';
import { PATTERNS, STATUS, STATUS_LABELS } from './patterns';

const BADGE_CLASSES = {
  [STATUS.AVAILABLE]: 'slds-badge slds-theme_success',
  [STATUS.PLANNED]: 'slds-badge slds-badge_lightest'
};

/**
 * Home page of the Integration Patterns app: lists each pattern with its business step, when to use
 * it, what each side does and whether this kit implements it yet.
 */
export default class IntegrationPatternsHome extends LightningElement {
  patterns = PATTERNS.map((pattern) => ({
    ...pattern,
    statusLabel: STATUS_LABELS[pattern.status],
    badgeClass: BADGE_CLASSES[pattern.status]
  }));

  get summary() {
    const available = PATTERNS.filter((pattern) => pattern.status === STATUS.AVAILABLE).length;
    return `${available} of ${PATTERNS.length} patterns have a reference implementation in this kit.`;
  }
}
