/**
 * The one exception to the remote system's error convention (`HttpError` and `{ error: { status, code, message,
 * fields? }, correlationId }` from `src/http`): the OData producer answers errors in the OData 4.0 JSON error format,
 * `{ "error": { "code", "message", "target"?, "details"? } }` (OData JSON Format 4.0, section 21 "Error Response"),
 * because its caller is Salesforce Connect, an OData client that reads that shape and shows `error.message` to the
 * user. Errors raised before the OData handler runs (bearer authentication, unknown paths outside `/odata`, fault
 * headers) keep the shared shape, as on every other route; the correlation id is still in `X-Correlation-Id`.
 */
/**
 * A query the producer refuses: always answered with HTTP 400 (or the given status) and an OData error body, never a
 * 500 and never a partial result.
 */
export class ODataQueryError extends Error {
  constructor(
    message: string,
    /** The query option at fault: `$filter`, `$orderby`, `$skiptoken`, … */
    readonly target: string,
    /** Zero-based character offset inside that option's value, when the fault has one. */
    readonly position?: number,
    readonly status: number = 400,
    readonly code: string = 'BadRequest'
  ) {
    super(position === undefined ? message : `${message} (at position ${position})`);
    this.name = 'ODataQueryError';
  }
}

/** The OData 4.0 JSON error body for an error. */
export function errorBody(error: ODataQueryError): Record<string, unknown> {
  return {
    error: {
      code: error.code,
      message: error.message,
      target: error.target,
      ...(error.position === undefined
        ? {}
        : {
            details: [{ code: 'Position', message: String(error.position), target: error.target }]
          })
    }
  };
}
