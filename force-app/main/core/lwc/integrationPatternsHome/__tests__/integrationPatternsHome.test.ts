import { createElement } from 'lwc';
import IntegrationPatternsHome from 'c/integrationPatternsHome';
import { PATTERNS, STATUS, STATUS_LABELS } from '../patterns';
import { QUESTIONS } from '../advisor';

// The one pattern list; patterns.js is generated from it by `npm run patterns:sync`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MANIFEST = require('../../../../../../config/patterns.json') as {
  patterns: {
    id: string;
    name: string;
    status: string;
    salesforceHalf: string;
    remoteHalf: string;
  }[];
};

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

function choose(shadow: ShadowRoot, question: string, value: string): Promise<void> {
  const input = shadow.querySelector<HTMLInputElement>(
    `input[name="${question}"][value="${value}"]`
  );
  if (!input) {
    throw new Error(`no option ${value} for ${question}`);
  }
  input.checked = true;
  input.dispatchEvent(new CustomEvent('change'));
  return Promise.resolve();
}

describe('c-integration-patterns-home advisor', () => {
  afterEach(() => {
    while (document.body.firstChild) {
      document.body.removeChild(document.body.firstChild);
    }
  });

  it('renders each question as a fieldset with a legend and labelled radio buttons', () => {
    const shadow = root(render());

    const fieldsets = shadow.querySelectorAll('fieldset');
    expect(fieldsets).toHaveLength(QUESTIONS.length);
    QUESTIONS.forEach((question, index) => {
      const fieldset = fieldsets[index];
      expect(fieldset?.querySelector('legend')?.textContent?.trim()).toBe(question.legend);
      const radios = fieldset?.querySelectorAll('label > input[type="radio"]');
      expect(radios).toHaveLength(question.options.length);
    });
    expect(shadow.querySelector('.recommendation')?.getAttribute('aria-live')).toBe('polite');
  });

  it('starts with the default answers and recommends Request and Reply', () => {
    const shadow = root(render());

    expect(
      shadow.querySelector<HTMLInputElement>('input[name="goal"][value="exchange"]')?.checked
    ).toBe(true);
    expect(shadow.querySelector('[data-recommended]')?.getAttribute('data-recommended')).toBe(
      'request-reply'
    );
    expect(shadow.querySelector('[data-recommended]')?.textContent).toBe('Request and Reply');
  });

  it('updates the recommendation and disables questions that no longer matter', async () => {
    const shadow = root(render());

    await choose(shadow, 'timing', 'no-wait');
    expect(shadow.querySelector('[data-recommended]')?.textContent).toBe('Fire and Forget');

    await choose(shadow, 'goal', 'view');
    expect(shadow.querySelector('[data-recommended]')?.textContent).toBe('Data Virtualization');
    expect(shadow.querySelector('.reason')?.textContent).toContain('OData');
    expect(
      shadow.querySelector<HTMLFieldSetElement>('fieldset[data-question="timing"]')?.disabled
    ).toBe(true);
    expect(
      shadow.querySelector<HTMLFieldSetElement>('fieldset[data-question="goal"]')?.disabled
    ).toBe(false);

    await choose(shadow, 'goal', 'exchange');
    await choose(shadow, 'volume', 'bulk');
    expect(shadow.querySelector('[data-recommended]')?.textContent).toBe(
      'Batch Data Synchronization'
    );
    expect(
      shadow.querySelector<HTMLFieldSetElement>('fieldset[data-question="volume"]')?.disabled
    ).toBe(false);
    expect(
      shadow.querySelector<HTMLFieldSetElement>('fieldset[data-question="timing"]')?.disabled
    ).toBe(true);
  });
});

describe('patterns module', () => {
  it('is the manifest config/patterns.json: same patterns, order, names, halves and statuses', () => {
    expect(PATTERNS.map((p) => [p.id, p.name, p.salesforceSide, p.remoteSide, p.status])).toEqual(
      MANIFEST.patterns.map((p) => [p.id, p.name, p.salesforceHalf, p.remoteHalf, p.status])
    );
  });

  it('badges each pattern with its own status, and a planned one "Planned", never "In this kit"', () => {
    const shadow = root(render());

    // the label itself, so the rule holds even while every pattern is available
    expect(STATUS_LABELS[STATUS.PLANNED]).toBe('Planned');
    for (const pattern of PATTERNS) {
      const badge = shadow.querySelector(`li[data-pattern="${pattern.id}"] .slds-badge`);
      expect(badge?.textContent).toBe(STATUS_LABELS[pattern.status]);
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
