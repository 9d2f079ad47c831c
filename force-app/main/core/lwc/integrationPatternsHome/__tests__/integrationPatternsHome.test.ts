import { createElement } from 'lwc';
import IntegrationPatternsHome from 'c/integrationPatternsHome';
import { PATTERNS, STATUS, STATUS_LABELS } from '../patterns';

const PATTERN_FOLDERS = [
  'remote-call-in',
  'request-reply',
  'fire-and-forget',
  'batch-sync',
  'data-virtualization',
  'ui-update'
];

function render(): HTMLElement {
  const element = createElement('c-integration-patterns-home', { is: IntegrationPatternsHome });
  document.body.appendChild(element);
  return element;
}

function root(element: HTMLElement): ShadowRoot {
  if (!element.shadowRoot) {
    throw new Error('component has no shadow root');
  }
  return element.shadowRoot;
}

describe('c-integration-patterns-home', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
  });

  it('renders one list item per pattern, in the order of the patterns module', () => {
    const items = root(render()).querySelectorAll('ul.pattern-list > li');

    expect(items).toHaveLength(PATTERNS.length);
    expect(Array.from(items).map((item) => (item as HTMLElement).dataset.pattern)).toEqual(
      PATTERNS.map((pattern) => pattern.id)
    );
  });

  it('gives the list an accessible name and each pattern its own heading under the page heading', () => {
    const shadow = root(render());

    expect(shadow.querySelector('h2')?.textContent).toBe('Integration patterns');
    expect(shadow.querySelector('ul.pattern-list')?.getAttribute('aria-label')).toBe(
      'Integration patterns'
    );
    const headings = Array.from(shadow.querySelectorAll('li h3'));
    expect(headings).toHaveLength(PATTERNS.length);
    headings.forEach((heading, index) => {
      expect(heading.textContent).toContain(PATTERNS[index]?.name);
    });
  });

  it('shows the business step, when to use it and the status of each pattern', () => {
    const shadow = root(render());

    for (const pattern of PATTERNS) {
      const item = shadow.querySelector(`li[data-pattern="${pattern.id}"]`);
      expect(item).not.toBeNull();
      expect(item?.querySelector('[data-field="businessStep"]')?.textContent).toBe(
        pattern.businessStep
      );
      expect(item?.querySelector('[data-field="whenToUse"]')?.textContent).toBe(pattern.whenToUse);
      const badge = item?.querySelector('.slds-badge');
      expect(badge?.textContent).toBe(STATUS_LABELS[pattern.status]);
      expect(badge?.classList.contains('slds-theme_success')).toBe(
        pattern.status === STATUS.AVAILABLE
      );
      expect(item?.querySelectorAll('dt')).toHaveLength(4);
      expect(item?.querySelectorAll('dd')).toHaveLength(4);
    }
  });

  it('summarises how many patterns the kit implements', () => {
    const available = PATTERNS.filter((pattern) => pattern.status === STATUS.AVAILABLE).length;

    const summary = root(render()).querySelector('.summary');

    expect(summary?.textContent).toBe(
      `${available} of ${PATTERNS.length} patterns have a reference implementation in this kit.`
    );
  });
});

describe('patterns module', () => {
  it('lists every pattern folder of the kit as available, with unique ids', () => {
    const ids = PATTERNS.map((pattern) => pattern.id);

    expect(new Set(ids).size).toBe(ids.length);
    for (const folder of PATTERN_FOLDERS) {
      expect(PATTERNS.find((pattern) => pattern.id === folder)?.status).toBe(STATUS.AVAILABLE);
    }
  });

  it('fills every text field and uses only known statuses', () => {
    for (const pattern of PATTERNS) {
      for (const field of [
        'name',
        'businessStep',
        'whenToUse',
        'salesforceSide',
        'remoteSide'
      ] as const) {
        expect(pattern[field].trim().length).toBeGreaterThan(0);
      }
      expect(Object.values(STATUS)).toContain(pattern.status);
    }
  });

  it('cannot be changed at runtime', () => {
    expect(Object.isFrozen(PATTERNS)).toBe(true);
    expect(Object.isFrozen(STATUS_LABELS)).toBe(true);
  });
});
