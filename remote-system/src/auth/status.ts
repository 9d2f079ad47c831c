/**
 * What the console shows about the server's protection: how exposed it is, who may open the console, whether a
 * secret rotation is under way (and whether the org still sends the previous secret), and the rate limits with
 * the requests they refused. Counters live in memory until restart, like the fault knobs.
 */
export interface SecuritySnapshot {
  readonly exposed: boolean;
  /** The settings that make the server reachable from outside (`HOST=…`, `PUBLIC_URL=…`). */
  readonly exposureReasons: readonly string[];
  readonly consoleAccess: 'open' | 'local';
  readonly usingDefaultSecret: boolean;
  readonly rotation: {
    /** `ERP_SHARED_SECRET_PREVIOUS` is set and accepted. */
    readonly previousAccepted: boolean;
    /** Requests authenticated with the previous secret: 0 for a while means the org has switched. */
    readonly previousSecretUses: number;
    readonly lastPreviousSecretUseAt?: string;
  };
  readonly rateLimit: {
    readonly enabled: boolean;
    readonly max: number;
    readonly anonymousMax: number;
    readonly windowSeconds: number;
    /** Requests refused with a 429 since start. */
    readonly limitedRequests: number;
    readonly lastLimitedAt?: string;
    /** Who was limited last ("the current shared secret", "203.0.113.9 without a valid bearer token"). */
    readonly lastLimitedCaller?: string;
  };
}

export interface SecuritySettings {
  readonly exposure: { readonly exposed: boolean; readonly reasons: readonly string[] };
  readonly consoleAccess: 'open' | 'local';
  readonly usingDefaultSecret: boolean;
  readonly previousSharedSecret?: string;
  readonly rateLimit: {
    readonly max: number;
    readonly anonymousMax: number;
    readonly windowSeconds: number;
  };
}

export class SecurityStatus {
  private previousSecretUses = 0;
  private lastPreviousSecretUseAt: string | undefined;
  private limitedRequests = 0;
  private lastLimitedAt: string | undefined;
  private lastLimitedCaller: string | undefined;

  constructor(private readonly settings: SecuritySettings) {}

  recordPreviousSecretUse(): void {
    this.previousSecretUses++;
    this.lastPreviousSecretUseAt = new Date().toISOString();
  }

  recordLimited(caller: string): void {
    this.limitedRequests++;
    this.lastLimitedAt = new Date().toISOString();
    this.lastLimitedCaller = caller;
  }

  snapshot(): SecuritySnapshot {
    const { exposure, consoleAccess, usingDefaultSecret, previousSharedSecret, rateLimit } =
      this.settings;
    return {
      exposed: exposure.exposed,
      exposureReasons: exposure.reasons,
      consoleAccess,
      usingDefaultSecret,
      rotation: {
        previousAccepted: previousSharedSecret !== undefined,
        previousSecretUses: this.previousSecretUses,
        ...(this.lastPreviousSecretUseAt === undefined
          ? {}
          : { lastPreviousSecretUseAt: this.lastPreviousSecretUseAt })
      },
      rateLimit: {
        enabled: rateLimit.max > 0,
        max: rateLimit.max,
        anonymousMax: rateLimit.anonymousMax,
        windowSeconds: rateLimit.windowSeconds,
        limitedRequests: this.limitedRequests,
        ...(this.lastLimitedAt === undefined
          ? {}
          : { lastLimitedAt: this.lastLimitedAt, lastLimitedCaller: this.lastLimitedCaller })
      }
    };
  }
}
