export {
  ERROR_CODES,
  HttpError,
  errorBody,
  errorBodySchema,
  sendError,
  toErrorBody,
  validationFields
} from './errors';
export type { ErrorBody, FieldProblem } from './errors';
export { CORRELATION_HEADER, correlationIdFor, isValidCorrelationId } from './correlation';
