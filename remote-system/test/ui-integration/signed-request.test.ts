import crypto from 'node:crypto';
import {
  CanvasRejection,
  isTrustedInstance,
  REJECTION,
  signPayload,
  verifySignedRequest,
  type VerifyOptions
} from '../../src/ui-integration/signed-request';
import { CONSUMER_SECRET, canvasRequest, sign } from './support';

const INSTANCE = 'https://acme.my.salesforce.com';
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const nowSeconds = Math.floor(NOW / 1000);
const options: VerifyOptions = {
  secret: CONSUMER_SECRET,
  maxAgeSeconds: 900,
  maxLength: 65_536,
  now: () => NOW
};

/** The rejection `verifySignedRequest` throws for `raw` (fails the test when it accepts it). */
function rejection(raw: unknown, with_: Partial<VerifyOptions> = {}): CanvasRejection {
  try {
    verifySignedRequest(raw, { ...options, ...with_ });
  } catch (error) {
    if (error instanceof CanvasRejection) return error;
    throw error;
  }
  throw new Error('the signed request was accepted');
}

const valid = (): string => sign(canvasRequest(INSTANCE, { issuedAt: nowSeconds - 5 }));

describe('verifying a Canvas signed request', () => {
  it('accepts a request signed with the consumer secret and returns its context', () => {
    const request = verifySignedRequest(valid(), options);
    expect(request.client.instanceUrl).toBe(INSTANCE);
    expect(request.context.user.fullName).toBe('Rita Rep');
    expect(request.context.environment.parameters).toEqual({ recordId: '006000000000042AAA' });
  });

  it('signs like Salesforce: base64 HMAC-SHA256 of the base64 payload text', () => {
    const raw = valid();
    const [signature, payload] = raw.split('.');
    expect(signPayload(payload ?? '', CONSUMER_SECRET)).toBe(signature);
  });

  it('refuses every request while no secret is configured, before reading it', () => {
    for (const raw of [valid(), '', 'garbage']) {
      const error = rejection(raw, { secret: undefined });
      expect([error.status, error.code]).toEqual([403, REJECTION.NOT_CONFIGURED]);
      expect(error.message).toContain('UI_INTEGRATION_CONSUMER_SECRET');
    }
  });

  it('refuses a tampered payload', () => {
    const [signature] = valid().split('.');
    const changed = canvasRequest(INSTANCE, { issuedAt: nowSeconds - 5 });
    (changed.context as { user: { fullName: string } }).user.fullName = 'Mallory';
    const payload = Buffer.from(JSON.stringify(changed)).toString('base64');
    const error = rejection(`${signature}.${payload}`);
    expect([error.status, error.code]).toEqual([403, REJECTION.BAD_SIGNATURE]);
  });

  it('refuses a request signed with another secret', () => {
    const raw = sign(
      canvasRequest(INSTANCE, { issuedAt: nowSeconds }),
      'another-apps-consumer-secret-000'
    );
    expect(rejection(raw).code).toBe(REJECTION.BAD_SIGNATURE);
  });

  it('compares signatures in constant time over two full 32-byte digests', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const raw = valid();
      const [signature = '', payload] = raw.split('.');
      const bytes = Buffer.from(signature, 'base64');
      // Differing in the first byte or in the last one: the same single comparison of all 32 bytes.
      for (const index of [0, 31]) {
        const forged = Buffer.from(bytes);
        forged[index] = (forged[index] ?? 0) ^ 0xff;
        spy.mockClear();
        expect(rejection(`${forged.toString('base64')}.${payload}`).code).toBe(
          REJECTION.BAD_SIGNATURE
        );
        expect(spy).toHaveBeenCalledTimes(1);
        const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
        expect([a.length, b.length]).toEqual([32, 32]);
      }
      // A signature of another length is refused without comparing anything.
      spy.mockClear();
      expect(rejection(`${bytes.subarray(0, 16).toString('base64')}.${payload}`).code).toBe(
        REJECTION.BAD_SIGNATURE
      );
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses an algorithm other than HMACSHA256, even correctly signed', () => {
    for (const algorithm of ['HMACSHA1', 'none', 'RS256']) {
      const error = rejection(sign(canvasRequest(INSTANCE, { issuedAt: nowSeconds, algorithm })));
      expect([error.status, error.code]).toEqual([400, REJECTION.UNSUPPORTED_ALGORITHM]);
      expect(error.message).toContain(algorithm);
    }
  });

  it('refuses a request issued too long ago, or dated in the future', () => {
    const old = rejection(sign(canvasRequest(INSTANCE, { issuedAt: nowSeconds - 901 })));
    expect([old.status, old.code]).toEqual([403, REJECTION.EXPIRED]);
    expect(old.message).toContain('901 s ago');
    // The last second still accepted.
    expect(() =>
      verifySignedRequest(sign(canvasRequest(INSTANCE, { issuedAt: nowSeconds - 900 })), options)
    ).not.toThrow();
    expect(rejection(sign(canvasRequest(INSTANCE, { issuedAt: nowSeconds + 3600 }))).code).toBe(
      REJECTION.EXPIRED
    );
  });

  it('checks no age unless a limit is configured: real orgs send issuedAt values that are no recent time', () => {
    const withoutAge: VerifyOptions = { ...options, maxAgeSeconds: undefined };
    // Values seen in signed requests captured from real orgs (public repositories).
    for (const issuedAt of [-1882588807, 798284367, nowSeconds - 86_400 * 30]) {
      const request = sign(canvasRequest(INSTANCE, { issuedAt }));
      expect(verifySignedRequest(request, withoutAge).issuedAt).toBe(issuedAt);
      expect(rejection(request).code).toBe(REJECTION.EXPIRED);
    }
  });

  it('refuses malformed requests before any decoding', () => {
    const payload = valid().split('.')[1] ?? '';
    for (const raw of [
      'no-dot-here',
      'a.b.c',
      `!!!.${payload}`,
      `abc.${payload}?`,
      '.',
      `.${payload}`
    ]) {
      const error = rejection(raw);
      expect({ raw, status: error.status, code: error.code }).toEqual({
        raw,
        status: 400,
        code: REJECTION.MALFORMED
      });
    }
    for (const raw of [undefined, '', ['a', 'b'], 42]) {
      expect(rejection(raw).code).toBe(REJECTION.MISSING);
    }
  });

  it('refuses a correctly signed payload that is not JSON or lacks what the page needs', () => {
    const notJson = Buffer.from('not json').toString('base64');
    expect(rejection(`${signPayload(notJson, CONSUMER_SECRET)}.${notJson}`).code).toBe(
      REJECTION.MALFORMED
    );
    const request = canvasRequest(INSTANCE, { issuedAt: nowSeconds });
    delete (request.client as Record<string, unknown>).oauthToken;
    const error = rejection(sign(request));
    expect([error.status, error.code]).toEqual([400, REJECTION.MALFORMED]);
    expect(error.message).toContain('/client/oauthToken');
    const noIssuedAt = canvasRequest(INSTANCE);
    noIssuedAt.issuedAt = null;
    expect(rejection(sign(noIssuedAt)).message).toContain('/issuedAt');
  });

  it('refuses an oversized request before looking at it', () => {
    const error = rejection(`${'A'.repeat(5000)}.${'B'.repeat(5000)}`, { maxLength: 4096 });
    expect([error.status, error.code]).toEqual([413, REJECTION.TOO_LARGE]);
  });
});

describe('trusted instance URLs', () => {
  const hosts = ['*.salesforce.com', '*.force.com', '127.0.0.1'];
  it.each([
    ['https://acme.my.salesforce.com', true],
    ['https://acme--dev.sandbox.my.salesforce.com', true],
    ['https://acme.lightning.force.com', true],
    ['http://127.0.0.1:4000', true],
    ['http://acme.my.salesforce.com', false],
    ['https://salesforce.com.evil.example', false],
    ['https://evilsalesforce.com', false],
    ['https://user:pass@acme.my.salesforce.com', false],
    ['https://acme.my.salesforce.com/path', false],
    ['not a url', false]
  ])('%s → %s', (url, trusted) => {
    expect(isTrustedInstance(url, hosts)).toBe(trusted);
  });
});
