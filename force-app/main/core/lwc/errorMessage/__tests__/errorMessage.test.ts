import { reduceError } from 'c/errorMessage';

describe('reduceError', () => {
  it('reads an AuraHandledException from an imperative or Continuation call', () => {
    expect(reduceError({ body: { message: 'The ERP did not answer.' }, status: 500 })).toBe(
      'The ERP did not answer.'
    );
  });

  it('joins the messages of a wire or UI API error list', () => {
    expect(reduceError({ body: [{ message: 'first' }, { message: 'second' }, {}] })).toBe(
      'first, second'
    );
  });

  it('reads record errors and field errors of a UI API output', () => {
    const error = {
      body: {
        message: '',
        output: {
          errors: [{ message: 'Record is locked' }],
          fieldErrors: { Amount: [{ message: 'Amount must be positive' }] }
        }
      }
    };
    expect(reduceError(error)).toBe('Record is locked, Amount must be positive');
  });

  it('reads page errors', () => {
    expect(reduceError({ body: { pageErrors: [{ message: 'Insufficient access' }] } })).toBe(
      'Insufficient access'
    );
  });

  it('falls back to the JavaScript message, then to the HTTP status text', () => {
    expect(reduceError(new TypeError('x is undefined'))).toBe('x is undefined');
    expect(reduceError({ body: null, statusText: 'Service Unavailable' })).toBe(
      'Service Unavailable'
    );
  });

  it('accepts a list of errors and plain strings', () => {
    expect(reduceError([new Error('a'), { body: { message: 'b' } }, null])).toBe('a, b');
    expect(reduceError('plain text')).toBe('plain text');
  });

  it('says "Unknown error" when nothing carries a message', () => {
    for (const error of [undefined, null, '', {}, { body: {} }, { body: [] }, [], [{}], '  ']) {
      expect(reduceError(error)).toBe('Unknown error');
    }
  });
});
