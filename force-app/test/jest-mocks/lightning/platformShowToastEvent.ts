/**
 * Jest mock of `lightning/platformShowToastEvent` (mapped in jest.config.js): a real `CustomEvent`
 * named `lightning__showtoast`, so a test listens on the component and asserts on `event.detail`.
 */

export type ToastVariant = 'info' | 'success' | 'warning' | 'error';
export type ToastMode = 'dismissible' | 'pester' | 'sticky';

export interface ToastDetail {
  title?: string;
  message?: string;
  messageData?: unknown[];
  variant?: ToastVariant;
  mode?: ToastMode;
}

export const SHOW_TOAST_EVENT_NAME = 'lightning__showtoast';

export class ShowToastEvent extends CustomEvent<ToastDetail> {
  constructor(toast: ToastDetail) {
    super(SHOW_TOAST_EVENT_NAME, {
      composed: true,
      cancelable: true,
      bubbles: true,
      detail: toast
    });
  }
}
