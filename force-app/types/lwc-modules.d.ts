/**
 * Module declarations TypeScript needs for the LWC Jest tests. At runtime these modules come from the
 * platform (or, under Jest, from sfdx-lwc-jest stubs and force-app/test/jest-mocks); the compiler only
 * needs their shapes. tsconfig `paths` cannot map `c/*` to `lwc/*\/*` (TS5062), hence the wildcards.
 */

/** An LWC component module: its default export is the component class. */
declare module 'c/*' {
  import type { LightningElement } from 'lwc';
  const component: typeof LightningElement;
  export default component;
}

/** `import method from '@salesforce/apex/Class.method'`: an imperative call or a wire adapter. */
declare module '@salesforce/apex/*' {
  const apexMethod: (params?: Record<string, unknown>) => Promise<unknown>;
  export default apexMethod;
}

/** `@AuraEnabled(continuation=true)` methods import the same way from `@salesforce/apexContinuation/`. */
declare module '@salesforce/apexContinuation/*' {
  const apexMethod: (params?: Record<string, unknown>) => Promise<unknown>;
  export default apexMethod;
}

declare module '@salesforce/apex' {
  export function refreshApex(wiredValue: unknown): Promise<void>;
  export function getSObjectValue(record: unknown, field: unknown): unknown;
}

declare module '@salesforce/schema/*' {
  const reference: { objectApiName: string; fieldApiName?: string };
  export default reference;
}

declare module '@salesforce/label/*' {
  const label: string;
  export default label;
}

declare module '@salesforce/user/Id' {
  const userId: string;
  export default userId;
}

// `lightning/empApi` and `lightning/platformShowToastEvent` are typed by their Jest mocks
// (force-app/test/jest-mocks/lightning/*.ts) through `paths` in force-app/tsconfig.json.

/** Other base modules (`lightning/navigation`, `lightning/uiRecordApi`, ...): untyped. */
declare module 'lightning/*';

/** The kit's shared error helper (`force-app/main/core/lwc/errorMessage`), imported by every component. */
declare module 'c/errorMessage' {
  export function reduceError(error: unknown): string;
}
