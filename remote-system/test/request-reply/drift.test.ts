/**
 * Cross-half drift checks for Request and Reply: every name that crosses the boundary, compared on both halves.
 *
 * | name                          | remote half                                              | Salesforce half                                          |
 * | ----------------------------- | -------------------------------------------------------- | -------------------------------------------------------- |
 * | reply fields (recursively)    | each route's 200 reply schema, as the real server registers it | `RequestReplyModels` DTOs (`CreditCheck`, `StockCheck`, `PriceQuote` and their inner classes) |
 * | reply fields (recursively)    | —                                                        | contract examples (`RequestReplyContract.json`) ↔ the same DTOs |
 * | request fields, query, paths  | request body/query schemas and the route table           | `RequestReplyController` map literals, `?amount=`, `/request-reply/...` paths |
 * | error document fields         | the routes' error reply schema                           | `RequestReplyModels.erpErrorMessage`'s `get('...')` keys |
 * | rendered fields               | —                                                        | LWC `orderReadinessCheck` (JS and template) ↔ the DTOs it renders |
 *
 * The contract examples themselves are checked against the real endpoints in `contract.test.ts`; this file adds
 * the Apex side. Apex reserved words cannot name a field: a JSON key such as `currency` would need an entry in
 * RENAMES (JSON key → Apex field), which the checks then follow and verify. Today every key is a legal Apex name.
 *
 * Each check runs on the real files (and must find nothing), then on a copy changed on one side only (and must name
 * that file and line).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifySchema } from 'fastify';
import {
  apexCallLiterals,
  apexMapEntries,
  apexStringLiterals,
  readApexClassFile,
  type ApexClass
} from '../drift/apex';
import {
  compareExampleToApex,
  compareSchemaToApex,
  resolveApexClass,
  schemaPropertyNames,
  type ApexModel,
  type JsonSchema,
  type Renames
} from '../drift/contract';
import {
  REPO_ROOT,
  formatFindings,
  lineOf,
  readSource,
  type DriftFinding,
  type SourceText
} from '../drift/findings';
import { jsonLocator, objectLiteralLocator } from '../drift/locate';
import { comparePathsToApex, jsMemberPaths, templateMemberPaths } from '../drift/lwc';
import { recordRoutes, replySchema, type RecordedRoute } from '../drift/routes';
import { patternModules } from '../../src/patterns';
import { startServer, testConfig, type RunningServer } from '../support';

jest.setTimeout(30_000);

const SF = 'force-app/main/request-reply';
const MODELS = `${SF}/classes/RequestReplyModels.cls`;
const CONTROLLER = `${SF}/classes/RequestReplyController.cls`;
const CONTRACT = `${SF}/staticresources/RequestReplyContract.json`;
const LWC_JS = `${SF}/lwc/orderReadinessCheck/orderReadinessCheck.js`;
const LWC_HTML = `${SF}/lwc/orderReadinessCheck/orderReadinessCheck.html`;
const PREFIX = '/request-reply';
/** Source the reply schemas are declared in (searched for the line of a schema property). */
const SCHEMA_SOURCES = ['remote-system/src/request-reply', 'remote-system/src/http'];

/** JSON key → Apex field, for keys Apex reserves (e.g. `currency`). None today: the ERP sends `currencyCode`. */
const RENAMES: Renames = {};

/** Each reply Salesforce parses: the ERP route, the Apex DTO it is parsed into, and its contract example. */
const REPLIES = [
  {
    method: 'GET',
    url: `${PREFIX}/credit/:customerNumber`,
    apex: 'RequestReplyModels.CreditCheck',
    example: 'creditApproved'
  },
  {
    method: 'POST',
    url: `${PREFIX}/stock`,
    apex: 'RequestReplyModels.StockCheck',
    example: 'stockCheck'
  },
  {
    method: 'POST',
    url: `${PREFIX}/pricing`,
    apex: 'RequestReplyModels.PriceQuote',
    example: 'priceQuote'
  }
] as const;

/**
 * What the LWC's property paths hold: `this.credit` is a CreditCheck, `readiness` an OrderReadiness, and the
 * template's `readinessView.pricing` the PriceQuote the getter passes through. Paths with other roots are the
 * component's own view model.
 */
const LWC_BINDINGS = {
  'this.credit': 'RequestReplyModels.CreditCheck',
  credit: 'RequestReplyModels.CreditCheck',
  'this.readiness': 'RequestReplyModels.OrderReadiness',
  readiness: 'RequestReplyModels.OrderReadiness',
  'readinessView.pricing': 'RequestReplyModels.PriceQuote'
} as const;

interface Inputs {
  models: SourceText;
  controller: SourceText;
  contract: SourceText;
  js: SourceText;
  html: SourceText;
  routes: readonly RecordedRoute[];
  schemaSources: readonly SourceText[];
}

function modelOf(inputs: Inputs): ApexModel {
  return { files: [readApexClassFile(inputs.models)] };
}

function apexClass(model: ApexModel, name: string): ApexClass {
  const cls = resolveApexClass(model, name);
  if (!cls) throw new Error(`no Apex class ${name} in ${MODELS}`);
  return cls;
}

function routeOf(inputs: Inputs, method: string, url: string): RecordedRoute | undefined {
  return inputs.routes.find((r) => r.method === method && r.url === url);
}

/** The contract examples' 2xx bodies against the DTOs Apex parses them into. */
function dtoAgainstExamples(inputs: Inputs): DriftFinding[] {
  const model = modelOf(inputs);
  const document = JSON.parse(inputs.contract.text) as {
    examples: Record<string, { status: number; body: unknown }>;
  };
  const locate = jsonLocator(inputs.contract);
  const findings: DriftFinding[] = [];
  for (const reply of REPLIES) {
    const example = document.examples[reply.example];
    if (!example) {
      findings.push({
        at: locate(['examples']),
        message: `the contract has no example '${reply.example}' for ${reply.apex}`,
        other: `${reply.method} ${reply.url}`
      });
      continue;
    }
    findings.push(
      ...compareExampleToApex(example.body, apexClass(model, reply.apex), model, {
        locate,
        basePath: ['examples', reply.example, 'body'],
        renames: RENAMES
      })
    );
  }
  const mapped = new Set<string>(REPLIES.map((r) => r.example));
  for (const [name, example] of Object.entries(document.examples)) {
    if (example.status < 300 && !mapped.has(name)) {
      findings.push({
        at: locate(['examples', name]),
        message: `example '${name}' is a ${example.status} reply that no Apex DTO is checked against: add it to REPLIES in this test`
      });
    }
  }
  return findings;
}

/** Each route's registered 200 reply schema against the DTO Apex parses it into. */
function dtoAgainstReplySchemas(inputs: Inputs): DriftFinding[] {
  const model = modelOf(inputs);
  const locate = objectLiteralLocator(inputs.schemaSources);
  const findings: DriftFinding[] = [];
  for (const reply of REPLIES) {
    const cls = apexClass(model, reply.apex);
    const schema = replySchema(routeOf(inputs, reply.method, reply.url), 200);
    if (!schema) {
      findings.push({
        at: { file: cls.file, line: cls.line },
        message: `${reply.apex} parses the reply of ${reply.method} ${reply.url}, but the ERP registers no such route with a 200 reply schema`
      });
      continue;
    }
    findings.push(
      ...compareSchemaToApex(schema, cls, model, {
        label: `200 reply schema of ${reply.method} ${reply.url}`,
        locate,
        renames: RENAMES
      })
    );
  }
  for (const route of inputs.routes) {
    const schema = replySchema(route, 200);
    if (schema?.type !== 'object' || route.url.endsWith('/openapi.json')) continue;
    if (!REPLIES.some((r) => r.method === route.method && r.url === route.url)) {
      const at = locate(Object.keys(schema.properties ?? {}), '') ?? { file: MODELS, line: 1 };
      findings.push({
        at,
        message: `${route.method} ${route.url} replies with an object no Apex DTO is checked against: add it to REPLIES in this test`
      });
    }
  }
  return findings;
}

/** Concrete path literal (`/request-reply/credit/`) against a route template (`/request-reply/credit/:customerNumber`). */
function pathMatches(literal: string, template: string): boolean {
  const path = literal.split('?')[0] ?? '';
  if (path === template) return true;
  return template.startsWith(path) && template.slice(path.length).startsWith(':');
}

/** What the controller sends: paths, query parameters and request-body keys against the ERP's routes and schemas. */
function requestsAgainstRoutes(inputs: Inputs): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const ours = inputs.routes.filter((r) => r.url.startsWith(`${PREFIX}/`));
  const literals = apexStringLiterals(inputs.controller);
  for (const literal of literals.filter((l) => l.value.startsWith(`${PREFIX}/`))) {
    if (!ours.some((r) => pathMatches(literal.value, r.url))) {
      findings.push({
        at: literal,
        message: `calls ${literal.value}, which matches no route the ERP registers (${ours.map((r) => `${r.method} ${r.url}`).join(', ')})`,
        other: `routes of the real server under ${PREFIX}`
      });
    }
  }
  const queryNames = new Set(
    ours.flatMap((r) => [
      ...schemaPropertyNames((r.schema?.querystring ?? {}) as JsonSchema),
      ...schemaPropertyNames((r.schema?.params ?? {}) as JsonSchema)
    ])
  );
  for (const literal of literals) {
    for (const match of literal.value.matchAll(/[?&](\w+)=/g)) {
      if (!queryNames.has(match[1]!)) {
        findings.push({
          at: literal,
          message: `sends the query parameter '${match[1]}', which no route's querystring schema declares`,
          other: `querystring schemas under ${PREFIX}`
        });
      }
    }
  }
  const bodies = ours.filter((r) => r.schema?.body);
  const bodyNames = new Set(
    bodies.flatMap((r) => [...schemaPropertyNames(r.schema!.body as JsonSchema)])
  );
  // Request bodies are built as `new Map<String, Object>{ 'key' => value }` (other maps, e.g. headers, are not bodies).
  const sent = apexMapEntries(inputs.controller).filter(
    (e) => e.mapTypes.toLowerCase() === 'string,object'
  );
  for (const entry of sent) {
    if (!bodyNames.has(entry.key)) {
      findings.push({
        at: entry,
        message: `sends '${entry.key}', which no request body schema under ${PREFIX} declares (the ERP rejects unknown properties)`,
        other: `request body schemas of ${bodies.map((r) => `${r.method} ${r.url}`).join(', ')}`
      });
    }
  }
  const requiredSomewhere = new Set<string>();
  const collectRequired = (schema: JsonSchema | undefined): void => {
    if (!schema) return;
    (schema.required ?? []).forEach((name) => requiredSomewhere.add(name));
    Object.values(schema.properties ?? {}).forEach(collectRequired);
    collectRequired(schema.items);
  };
  bodies.forEach((r) => collectRequired(r.schema!.body as JsonSchema));
  const locate = objectLiteralLocator(inputs.schemaSources);
  for (const name of requiredSomewhere) {
    if (!sent.some((e) => e.key === name)) {
      findings.push({
        at: locate([name], name) ?? { file: inputs.controller.file, line: 1 },
        message: `request property '${name}' is required by the ERP, but ${CONTROLLER} never sends it`,
        other: { file: inputs.controller.file, line: sent[0]?.line ?? 1 }
      });
    }
  }
  return findings;
}

/** The keys `erpErrorMessage` reads from the ERP's error document against the routes' error reply schema. */
function errorReadsAgainstErrorSchema(inputs: Inputs): DriftFinding[] {
  const errorSchemas = inputs.routes
    .filter((r) => r.url.startsWith(`${PREFIX}/`))
    .flatMap((r) => [400, 404, 500, 503].map((s) => replySchema(r, s)))
    .filter((s): s is JsonSchema => s !== undefined);
  const names = new Set(errorSchemas.flatMap((s) => [...schemaPropertyNames(s)]));
  const contract = JSON.parse(inputs.contract.text) as {
    examples: Record<string, { status: number; body: unknown }>;
  };
  const exampleKeys = new Set<string>();
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        exampleKeys.add(key);
        collect(child);
      }
    }
  };
  Object.values(contract.examples)
    .filter((e) => e.status >= 400)
    .forEach((e) => collect(e.body));
  const findings: DriftFinding[] = [];
  for (const read of apexCallLiterals(inputs.models, 'get')) {
    if (!names.has(read.value)) {
      findings.push({
        at: read,
        message: `reads '${read.value}' from the ERP's error document, which the routes' error reply schema does not declare`,
        other: `error reply schemas under ${PREFIX}`
      });
    } else if (!exampleKeys.has(read.value)) {
      findings.push({
        at: read,
        message: `reads '${read.value}' from the ERP's error document, which no error example of the contract shows`,
        other: { file: inputs.contract.file, line: 1 }
      });
    }
  }
  if (errorSchemas.length === 0) {
    findings.push({
      at: { file: inputs.models.file, line: 1 },
      message: `no route under ${PREFIX} declares an error reply schema (400/404/500/503)`
    });
  }
  return findings;
}

/** The property paths orderReadinessCheck reads against the DTOs it renders. */
function lwcAgainstModels(inputs: Inputs): DriftFinding[] {
  return comparePathsToApex(
    [...jsMemberPaths(inputs.js), ...templateMemberPaths(inputs.html)],
    LWC_BINDINGS,
    modelOf(inputs)
  );
}

const CHECKS = {
  'RequestReplyModels DTOs against the contract examples': dtoAgainstExamples,
  "RequestReplyModels DTOs against the routes' 200 reply schemas": dtoAgainstReplySchemas,
  "RequestReplyController's paths, query and body keys against the ERP's routes and schemas":
    requestsAgainstRoutes,
  "erpErrorMessage's keys against the error reply schema and examples":
    errorReadsAgainstErrorSchema,
  'LWC orderReadinessCheck against the DTOs it renders': lwcAgainstModels
} as const;

function readTree(folder: string): SourceText[] {
  return readdirSync(path.join(REPO_ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readSource(`${folder}/${f.split(path.sep).join('/')}`));
}

let server: RunningServer;
let real: Inputs;

beforeAll(async () => {
  const routes: RecordedRoute[] = [];
  const config = testConfig();
  const modules = patternModules(config)
    .filter((m) => m.name === 'request-reply')
    .map((m) => recordRoutes(m, routes));
  // The real composition root: the schemas recorded are the ones Fastify validates and serialises with.
  server = await startServer({ patterns: modules });
  real = {
    models: readSource(MODELS),
    controller: readSource(CONTROLLER),
    contract: readSource(CONTRACT),
    js: readSource(LWC_JS),
    html: readSource(LWC_HTML),
    routes,
    schemaSources: SCHEMA_SOURCES.flatMap(readTree)
  };
});

afterAll(async () => {
  await server?.close();
});

describe('request-reply: the two halves agree', () => {
  it.each(Object.keys(CHECKS))('%s', (name) => {
    const check = CHECKS[name as keyof typeof CHECKS];
    expect(formatFindings(check(real))).toEqual([]);
  });

  it('reads the routes and the LWC paths it compares (the checks are not vacuous)', () => {
    for (const reply of REPLIES) {
      expect(replySchema(routeOf(real, reply.method, reply.url), 200)).toBeDefined();
    }
    const bound = [...jsMemberPaths(real.js), ...templateMemberPaths(real.html)].filter((p) =>
      Object.keys(LWC_BINDINGS).some((root) => p.segments.join('.').startsWith(root))
    );
    expect(bound.length).toBeGreaterThanOrEqual(10);
    expect(
      apexMapEntries(real.controller)
        .map((e) => e.key)
        .sort()
    ).toEqual(expect.arrayContaining(['customerNumber', 'lines', 'productCode', 'quantity']));
  });
});

function edit(text: string, from: string | RegExp, to: string): string {
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`mutation did not apply: ${String(from)}`);
  return changed;
}

function mutate(source: SourceText, from: string | RegExp, to: string): SourceText {
  return { file: source.file, text: edit(source.text, from, to) };
}

function lineIn(source: SourceText, pattern: RegExp): number {
  const line = lineOf(source.text, pattern);
  if (line === undefined) throw new Error(`${source.file}: ${String(pattern)} not found`);
  return line;
}

/** A deep copy of the recorded routes with one reply schema property renamed (the ERP changed, Apex did not). */
function renameReplyProperty(
  inputs: Inputs,
  url: string,
  rename: (schema: Record<string, unknown>) => void
): Inputs {
  const routes = inputs.routes.map((r) => {
    if (r.url !== url) return r;
    const schema = structuredClone(r.schema) as {
      response: Record<string, Record<string, unknown>>;
    };
    rename(schema.response['200']!);
    return { ...r, schema: schema as FastifySchema };
  });
  return { ...inputs, routes };
}

function renameKey(object: Record<string, unknown>, from: string, to: string): void {
  if (!(from in object)) throw new Error(`no key ${from}`);
  object[to] = object[from];
  delete object[from];
}

describe('request-reply: each check fails on a one-sided change, naming file and line', () => {
  it('a contract field renamed in an Apex DTO only', () => {
    const models = mutate(
      real.models,
      'public Decimal availableCredit;',
      'public Decimal creditAvailable;'
    );
    const fieldLine = lineIn(models, /public Decimal creditAvailable;/);
    const exampleLine = lineIn(real.contract, /"availableCredit"/);
    const examples = formatFindings(dtoAgainstExamples({ ...real, models }));
    expect(examples).toEqual([
      `${MODELS}:${fieldLine} RequestReplyModels.CreditCheck.creditAvailable is not in the contract example at $.examples.creditApproved.body.creditAvailable (other side: ${CONTRACT}:${lineIn(real.contract, /"body": \{\n\s+"customerNumber"/)})`,
      `${CONTRACT}:${exampleLine} $.examples.creditApproved.body.availableCredit has no field 'availableCredit' in RequestReplyModels.CreditCheck (other side: ${MODELS}:${lineIn(models, /public class CreditCheck/)})`
    ]);
    const schemas = formatFindings(dtoAgainstReplySchemas({ ...real, models }));
    expect(schemas).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^remote-system/src/request-reply/[\\w.-]+:\\d+ 200 reply schema of GET /request-reply/credit/:customerNumber \\$\\.availableCredit has no field 'availableCredit' in RequestReplyModels\\.CreditCheck`
        )
      )
    );
    expect(schemas).toContainEqual(
      expect.stringContaining(
        `${MODELS}:${fieldLine} RequestReplyModels.CreditCheck.creditAvailable is not a property of 200 reply schema`
      )
    );
    const lwc = formatFindings(lwcAgainstModels({ ...real, models }));
    expect(lwc).toContain(
      `${LWC_JS}:${lineIn(real.js, /availableCredit: credit\.availableCredit/)} credit.availableCredit reads 'availableCredit', which RequestReplyModels.CreditCheck does not declare (other side: ${MODELS}:${lineIn(models, /public class CreditCheck/)})`
    );
  });

  it('a field renamed in a contract example only (nested in an array)', () => {
    const contract = mutate(real.contract, '"warehouseCode": "WH-WEST"', '"warehouse": "WH-WEST"');
    const line = lineIn(contract, /"warehouse": "WH-WEST"/);
    expect(formatFindings(dtoAgainstExamples({ ...real, contract })).reverse()).toEqual([
      `${CONTRACT}:${line} $.examples.stockCheck.body.lines[0].warehouses[1].warehouse has no field 'warehouse' in RequestReplyModels.WarehouseStock (other side: ${MODELS}:${lineIn(real.models, /public class WarehouseStock/)})`,
      expect.stringContaining(
        'RequestReplyModels.WarehouseStock.warehouseCode is not in the contract example at $.examples.stockCheck.body.lines[0].warehouses[1].warehouseCode'
      )
    ]);
  });

  it("a field renamed in the ERP's reply only (the route's reply schema)", () => {
    const inputs = renameReplyProperty(real, `${PREFIX}/stock`, (schema) => {
      const properties = (schema.properties as Record<string, Record<string, unknown>>).lines!;
      const line = (properties.items as { properties: Record<string, unknown> }).properties;
      renameKey(line, 'requestedQuantity', 'quantityRequested');
    });
    const findings = formatFindings(dtoAgainstReplySchemas(inputs));
    const apexLine = lineIn(real.models, /public Integer requestedQuantity;/);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^remote-system\/src\/request-reply\/[\w.-]+:\d+ 200 reply schema of POST \/request-reply\/stock \$\.lines\[0\]\.quantityRequested has no field 'quantityRequested' in RequestReplyModels\.StockLine/
        ),
        expect.stringContaining(
          `${MODELS}:${apexLine} RequestReplyModels.StockLine.requestedQuantity is not a property of 200 reply schema of POST /request-reply/stock at $.lines[0]`
        )
      ])
    );
  });

  it("a reply type the DTO cannot hold (the ERP's integer became a number)", () => {
    const inputs = renameReplyProperty(real, `${PREFIX}/stock`, (schema) => {
      const properties = schema.properties as Record<string, Record<string, unknown>>;
      const items = properties.lines!.items as { properties: Record<string, { type: string }> };
      items.properties.onHand!.type = 'number';
    });
    expect(formatFindings(dtoAgainstReplySchemas(inputs))).toEqual([
      expect.stringContaining(
        `${MODELS}:${lineIn(real.models, /public Integer onHand;/)} RequestReplyModels.StockLine.onHand is integer, but $.lines[0].onHand is number in the schema`
      )
    ]);
  });

  it('a request key, path or query parameter renamed in the controller only', () => {
    const controller = mutate(
      mutate(
        mutate(real.controller, "'productCode' => code", "'product' => code"),
        "'/request-reply/stock'",
        "'/request-reply/stocks'"
      ),
      "'?amount='",
      "'?orderAmount='"
    );
    const findings = formatFindings(requestsAgainstRoutes({ ...real, controller }));
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          `${CONTROLLER}:${lineIn(controller, /'product' => code/)} sends 'product', which no request body schema`
        ),
        expect.stringContaining(
          `${CONTROLLER}:${lineIn(controller, /'\/request-reply\/stocks'/)} calls /request-reply/stocks, which matches no route`
        ),
        expect.stringContaining(
          `${CONTROLLER}:${lineIn(controller, /'\?orderAmount='/)} sends the query parameter 'orderAmount'`
        ),
        expect.stringMatching(
          /^remote-system\/src\/request-reply\/[\w.-]+:\d+ request property 'productCode' is required by the ERP/
        )
      ])
    );
  });

  it('an error-document key renamed in Apex only', () => {
    const models = mutate(real.models, "details.get('fields')", "details.get('errors')");
    expect(formatFindings(errorReadsAgainstErrorSchema({ ...real, models }))).toEqual([
      expect.stringContaining(
        `${MODELS}:${lineIn(models, /get\('errors'\)/)} reads 'errors' from the ERP's error document`
      )
    ]);
  });

  it('a DTO field renamed in the LWC only (JS, through an alias and an array callback; and the template)', () => {
    const js = mutate(real.js, '${line.requestedQuantity} requested', '${line.quantity} requested');
    const html = mutate(
      real.html,
      '{readinessView.pricing.total}',
      '{readinessView.pricing.grandTotal}'
    );
    expect(formatFindings(lwcAgainstModels({ ...real, js, html }))).toEqual([
      `${LWC_HTML}:${lineIn(html, /grandTotal/)} readinessView.pricing.grandTotal reads 'grandTotal', which RequestReplyModels.PriceQuote does not declare (other side: ${MODELS}:${lineIn(real.models, /public class PriceQuote/)})`,
      `${LWC_JS}:${lineIn(js, /line\.quantity\}/)} this.readiness.stock.lines[].quantity reads 'quantity', which RequestReplyModels.StockLine does not declare (other side: ${MODELS}:${lineIn(real.models, /public class StockLine/)})`
    ]);
  });

  it('a JSON key Apex reserves (currency) without an explicit rename, and a rename that is not needed', () => {
    const contract = mutate(
      real.contract,
      '"currencyCode": "USD",\n        "creditLimit"',
      '"currency": "USD",\n        "creditLimit"'
    );
    expect(formatFindings(dtoAgainstExamples({ ...real, contract }))).toContainEqual(
      expect.stringContaining(
        `${CONTRACT}:${lineIn(contract, /"currency": "USD"/)} $.examples.creditApproved.body.currency: 'currency' is an Apex reserved word and cannot be a field of RequestReplyModels.CreditCheck; add an explicit rename`
      )
    );
    const model = modelOf(real);
    const cls = apexClass(model, 'RequestReplyModels.CreditCheck');
    const renamed = compareExampleToApex({ currency: 'USD' }, cls, model, {
      locate: jsonLocator(contract),
      basePath: [],
      renames: { currency: 'currencyCode' }
    });
    // With the rename, `currency` is read into currencyCode (only the other, absent fields remain).
    expect(formatFindings(renamed).some((f) => f.includes("'currency'"))).toBe(false);
    const needless = compareExampleToApex({}, cls, model, {
      locate: jsonLocator(contract),
      basePath: [],
      renames: { reason: 'reason' }
    });
    expect(formatFindings(needless)).toContainEqual(
      expect.stringContaining(
        "the rename 'reason' → 'reason' is not needed: 'reason' is not an Apex reserved word"
      )
    );
  });
});
