/**
 * Stores the ERP secret in the org's External Credential principal through the Connect REST API
 * (`/named-credentials/credential`, API 56.0+), so the secret never lives in source control.
 * The org itself encrypts it; this script only ever sends it over HTTPS to the org it was told to use.
 */

/** Where the org answers and who we are there: `sf org display --json` gives both. */
export interface OrgConnection {
  readonly instanceUrl: string;
  readonly accessToken: string;
  readonly apiVersion: string;
}

/** Which External Credential principal receives which secret parameter. */
export interface CredentialTarget {
  readonly externalCredential: string;
  readonly principalName: string;
  readonly parameterName: string;
}

/** The ERP principal that core's `ERP_Credential` declares (`AuthHeader` formula reads `ApiKey`). */
export const ERP_CREDENTIAL_TARGET: CredentialTarget = {
  externalCredential: 'ERP_Credential',
  principalName: 'ERP_Principal',
  parameterName: 'ApiKey'
};

export class CredentialUpdateError extends Error {
  override name = 'CredentialUpdateError';
}

/**
 * Creates the principal's credential, or replaces it when one is already stored (re-runs of `org:setup`).
 * @returns whether the credential was created or updated
 */
export async function storeCredentialSecret(
  org: OrgConnection,
  target: CredentialTarget,
  secret: string,
  fetchImpl: typeof fetch = fetch
): Promise<'created' | 'updated'> {
  if (secret.length === 0) throw new CredentialUpdateError('the secret is empty');
  const base = `${org.instanceUrl.replace(/\/+$/, '')}/services/data/v${org.apiVersion}/named-credentials/credential`;
  const headers = {
    Authorization: `Bearer ${org.accessToken}`,
    'Content-Type': 'application/json',
    Accept: 'application/json'
  };
  const query = new URLSearchParams({
    externalCredential: target.externalCredential,
    principalName: target.principalName,
    principalType: 'NamedPrincipal'
  });
  const existing = await fetchImpl(`${base}?${query.toString()}`, { headers });
  if (!existing.ok && existing.status !== 404) {
    throw new CredentialUpdateError(
      `reading ${target.externalCredential}/${target.principalName} failed: ${existing.status} ${await existing.text()}`
    );
  }
  const stored = existing.ok
    ? ((await existing.json()) as { credentials?: Record<string, unknown> })
    : {};
  const alreadyStored = Object.keys(stored.credentials ?? {}).length > 0;
  const body = JSON.stringify({
    externalCredential: target.externalCredential,
    principalName: target.principalName,
    principalType: 'NamedPrincipal',
    authenticationProtocol: 'Custom',
    credentials: { [target.parameterName]: { value: secret, encrypted: true } }
  });
  const response = await fetchImpl(base, {
    method: alreadyStored ? 'PUT' : 'POST',
    headers,
    body
  });
  if (!response.ok) {
    throw new CredentialUpdateError(
      `storing the ${target.parameterName} of ${target.externalCredential}/${target.principalName} failed: ${response.status} ${await response.text()}`
    );
  }
  return alreadyStored ? 'updated' : 'created';
}
