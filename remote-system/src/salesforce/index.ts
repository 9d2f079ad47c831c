/**
 * The one way the ERP reaches the org: `createSalesforceAuth(config.salesforce)` gives a {@link SalesforceAuth};
 * ask it for `session()` before a call and for `refresh(session)` once after a 401 / `UNAUTHENTICATED`.
 */
export {
  createSalesforceAuth,
  JWT_BEARER_GRANT,
  SalesforceAuthError,
  type SalesforceAuth,
  type SalesforceAuthOptions,
  type SalesforceSession
} from './auth';
