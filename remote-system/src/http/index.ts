export {
  ERROR_CODES,
  ERROR_DESCRIPTIONS,
  ErrorBodySchema,
  HttpError,
  errorBody,
  errorBodySchema,
  errorResponses,
  sendError,
  toErrorBody,
  validationFields
} from './errors';
export type { ErrorBody, FieldProblem } from './errors';
export { CORRELATION_HEADER, correlationIdFor, isValidCorrelationId } from './correlation';
export { StringEnum, ref } from './schema';
export type { TypeBoxProvider } from './schema';
