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
