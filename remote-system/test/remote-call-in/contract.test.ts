import {
  startSalesforceStandIn,
  STAND_IN_ORG_ID,
  type SalesforceStandIn
} from '../stand-ins/salesforce-rest';
import { addOrderApi, readContract, type ContractExample } from './org-stand-in';

/**
 * Every example of `RemoteCallInContract.json` against the stand-in of the org, as `WebOrderResourceTest` sends
 * them to the Apex class: the stand-in the client tests rely on answers exactly what the org answers.
 */
const contract = readContract();
const TOKEN = `${STAND_IN_ORG_ID}!contract`;

function request(name: string): ContractExample['request'] {
  const example = contract.examples[name];
  if (example === undefined) throw new Error(`no example ${name}`);
  return example.request.sameAs === undefined ? example.request : request(example.request.sameAs);
}

function expectedBody(name: string): unknown {
  const body = contract.examples[name]?.response.body as { sameAs?: string } | undefined;
  return body?.sameAs === undefined ? body : expectedBody(body.sameAs);
}

/** The generated requests, built as the Apex test builds them. */
function generated(name: string): { headers: Record<string, string>; body: string } | undefined {
  const create = request('createOrders');
  const createBody = JSON.stringify(create.body);
  if (name === 'tooManyOrders') {
    const first = (create.body as { orders: object[] }).orders[0];
    const orders = Array.from({ length: 201 }, (_, i) => ({
      ...first,
      externalNumber: `WEB-${300001 + i}`
    }));
    return { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ orders }) };
  }
  if (name === 'tooLarge') {
    return {
      headers: { 'Content-Type': 'application/json' },
      body: createBody.padEnd(contract.limits.maxBodyBytes + 1, ' ')
    };
  }
  if (name === 'keyTooLong') {
    return {
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': 'k'.repeat(contract.limits.maxIdempotencyKeyLength + 1)
      },
      body: createBody
    };
  }
  return undefined;
}

async function send(standIn: SalesforceStandIn, name: string): Promise<Response> {
  const req = request(name);
  const built = generated(name);
  const body =
    built?.body ?? req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
  return fetch(`${standIn.url}/services/apexrest${req.path}`, {
    method: req.method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(built?.headers ?? req.headers) },
    ...(body === undefined ? {} : { body })
  });
}

/** `"<id>"` matches any 18-character id; everything else must be equal. */
function normalise(expected: unknown, actual: unknown): unknown {
  if (expected === '<id>')
    return typeof actual === 'string' && actual.length === 18 ? '<id>' : actual;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return actual.map((item, i) => normalise(expected[i], item));
  }
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object') {
    return Object.fromEntries(
      Object.entries(actual).map(([k, v]) => [
        k,
        normalise((expected as Record<string, unknown>)[k], v)
      ])
    );
  }
  return actual;
}

// accessDenied needs a user without the permission set: only the org (the Apex test) can play that.
const names = Object.keys(contract.examples).filter((n) => n !== 'accessDenied');

describe('RemoteCallInContract against the stand-in of the org', () => {
  let standIn: SalesforceStandIn;
  beforeEach(async () => {
    standIn = await startSalesforceStandIn({ staticTokens: [TOKEN] });
    addOrderApi(standIn, contract.customers);
  });
  afterEach(() => standIn.close());

  it.each(names)('%s', async (name) => {
    const example = contract.examples[name]!;
    for (const before of example.after ?? []) {
      expect((await send(standIn, before)).status).toBeLessThan(300);
    }
    const response = await send(standIn, name);
    const text = await response.text();
    expect({
      status: response.status,
      body: normalise(expectedBody(name), JSON.parse(text))
    }).toEqual({
      status: example.response.status,
      body: expectedBody(name)
    });
    for (const [header, value] of Object.entries(example.response.headers ?? {})) {
      expect(response.headers.get(header)).toBe(value);
    }
  });

  it('covers every example but the one only an org can play', () => {
    expect(names).toHaveLength(Object.keys(contract.examples).length - 1);
    expect(contract.examples.accessDenied?.response.status).toBe(403);
  });
});
