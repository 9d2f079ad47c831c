import type { SalesforceAuth, SalesforceSession } from '../../src/salesforce/auth';
import type { PubSubStandIn } from './pubsub-server';

/**
 * A {@link SalesforceAuth} for tests against the Pub/Sub stand-in: hands out `token-1`, and on `refresh` mints the
 * next token and makes the stand-in accept it (as the org does after a new OAuth grant). A refresh for a token that
 * was already replaced returns the current one, as the real implementation does.
 */
export class MintingAuth implements SalesforceAuth {
  refreshes = 0;
  private current: SalesforceSession;

  constructor(private readonly standIn: Pick<PubSubStandIn, 'acceptToken' | 'tenantId'>) {
    this.current = this.mint(1);
  }

  private mint(n: number): SalesforceSession {
    const accessToken = `token-${n}`;
    this.standIn.acceptToken(accessToken);
    return {
      instanceUrl: 'https://stand-in.my.salesforce.com',
      accessToken,
      apiVersion: '67.0',
      orgId: this.standIn.tenantId
    };
  }

  async session(): Promise<SalesforceSession> {
    return this.current;
  }

  async refresh(rejected: SalesforceSession): Promise<SalesforceSession> {
    if (rejected.accessToken === this.current.accessToken) {
      this.refreshes += 1;
      this.current = this.mint(this.refreshes + 1);
    }
    return this.current;
  }

  /** The token in use now, for a test that expires it on the stand-in. */
  get token(): string {
    return this.current.accessToken;
  }
}
