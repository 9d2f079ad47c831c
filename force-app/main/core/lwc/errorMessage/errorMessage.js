/**
 * The one way every component of the kit turns an error into the text it shows. Apex errors reach a component in
 * several shapes: an `AuraHandledException` thrown by an imperative call or a Continuation callback
 * (`{ body: { message } }`), a wire adapter or UI API error (`{ body: [{ message }, …] }` or
 * `{ body: { output: { errors: [{ message }] } } }`), a page error with field errors, or a plain JavaScript `Error`.
 * Keeping the unwrapping in one module means a new pattern's component shows the same words for the same failure.
 */

const UNKNOWN = 'Unknown error';

function nonEmpty(value) {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function messagesOf(list) {
  return (Array.isArray(list) ? list : [])
    .map((entry) => nonEmpty(entry && entry.message))
    .filter((message) => message !== undefined);
}

function fromBody(body) {
  if (Array.isArray(body)) {
    const messages = messagesOf(body);
    return messages.length > 0 ? messages.join(', ') : undefined;
  }
  if (!body || typeof body !== 'object') return nonEmpty(body);
  const direct = nonEmpty(body.message);
  if (direct) return direct;
  const output = body.output;
  if (output) {
    const messages = messagesOf(output.errors);
    for (const fieldErrors of Object.values(output.fieldErrors || {})) {
      messages.push(...messagesOf(fieldErrors));
    }
    if (messages.length > 0) return messages.join(', ');
  }
  const pageErrors = messagesOf(body.pageErrors);
  return pageErrors.length > 0 ? pageErrors.join(', ') : undefined;
}

/**
 * The message of an Apex, wire, UI API or JavaScript error, or a list of them.
 * @param {unknown} error what a promise rejected with, or the `error` of a wire result
 * @returns {string} the text to show; 'Unknown error' when the error carries none
 */
export function reduceError(error) {
  if (Array.isArray(error)) {
    const messages = error.map((item) => reduceError(item)).filter((m) => m !== UNKNOWN);
    return messages.length > 0 ? messages.join(', ') : UNKNOWN;
  }
  if (!error) return UNKNOWN;
  if (typeof error === 'string') return nonEmpty(error) || UNKNOWN;
  return fromBody(error.body) || nonEmpty(error.message) || nonEmpty(error.statusText) || UNKNOWN;
}
