import { XMLParser } from 'fast-xml-parser';
import {
  CANVAS_PATH,
  PRICE_CHOSEN_EVENT,
  PRICE_CHOSEN_KEYS,
  RECORD_ID_PARAMETER,
  WRITE_BACK_FIELDS,
  WRITE_BACK_OBJECT
} from '../../src/ui-integration/contract';
import { writeBackBody } from '../../src/ui-integration/write-back';
import { patternModules } from '../../src/patterns';
import { recordRoutes, type RecordedRoute } from '../drift/routes';
import {
  escapeRegExp,
  formatFindings,
  lineOf,
  readSource,
  type DriftFinding,
  type SourceText
} from '../drift/findings';
import { startTestServer, testConfig } from '../support';

/**
 * Cross-half drift of UI Integration. Every name that crosses the boundary, where each half writes it:
 *
 * | name                              | remote half (remote-system/src/ui-integration)    | Salesforce half (force-app/main/ui-integration)                    |
 * | --------------------------------- | ------------------------------------------------- | ------------------------------------------------------------------ |
 * | canvas URL path, POST             | the route registered at `CANVAS_PATH` (contract.ts) | `canvasUrl`, `accessMethod` in the `.ecaCanvas` settings          |
 * | canvas app developer name         | —                                                 | `.eca` file name; `developerName` of `apex:canvasApp`; OAuth policy |
 * | `recordId` canvas parameter       | `RECORD_ID_PARAMETER`                             | `parameters` of `apex:canvasApp`                                    |
 * | record fields in the request      | reads `Id`, `Name` of the Record object           | `entityFields` of `apex:canvasApp`                                  |
 * | written fields                    | `writeBackBody()` keys (`WRITE_BACK_FIELDS`)      | `objects/Opportunity/fields/*`, permission set field permissions    |
 * | `erp.priceChosen` and its keys    | `PRICE_CHOSEN_EVENT`, `PRICE_CHOSEN_KEYS`         | `Sfdc.canvas.controller.subscribe` and `event.<key>` in the page    |
 * | permission set                    | —                                                 | `UI_Integration_User` file; `commaSeparatedPermissionSet`           |
 *
 * The contract examples (`staticresources/UiIntegrationContract.json`) repeat them and are checked against both.
 * Each check is a function of the texts it reads; the tests run it on the real files (expecting no finding) and on
 * a copy changed on one side (expecting the finding at that file and line).
 */
const ROOT = 'force-app/main/ui-integration';
const FILES = {
  canvas: `${ROOT}/extlClntAppCanvasSettings/ERP_Pricing_Canvas_canvasSettings.ecaCanvas-meta.xml`,
  eca: `${ROOT}/externalClientApps/ERP_Pricing_Canvas.eca-meta.xml`,
  policy: `${ROOT}/extlClntAppOauthPolicies/ERP_Pricing_Canvas_oauthPlcy.ecaOauthPlcy-meta.xml`,
  page: `${ROOT}/pages/ErpPricingCanvas.page`,
  permissionSet: `${ROOT}/permissionsets/UI_Integration_User.permissionset-meta.xml`,
  contract: `${ROOT}/staticresources/UiIntegrationContract.json`,
  field: (name: string) => `${ROOT}/objects/${WRITE_BACK_OBJECT}/fields/${name}.field-meta.xml`
} as const;

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });
const at = (source: SourceText, pattern: RegExp | string): { file: string; line: number } => ({
  file: source.file,
  line:
    lineOf(
      source.text,
      typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern
    ) ?? 1
});
const element = (source: SourceText, root: string, name: string): string | undefined => {
  const document = xml.parse(source.text) as Record<string, Record<string, unknown> | undefined>;
  const value = document[root]?.[name];
  return value === undefined ? undefined : String(value as string);
};
/** `name="value"` of the `<apex:canvasApp>` tag. */
const canvasAttribute = (page: SourceText, name: string): string | undefined => {
  const tag = /<apex:canvasApp\b[^>]*>/s.exec(page.text)?.[0] ?? '';
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
};
const ecaName = (eca: SourceText): string =>
  eca.file.split('/').pop()?.replace('.eca-meta.xml', '') ?? '';

/** The canvas settings point at the ERP route that verifies the signed request, with the method it serves. */
function checkCanvasUrl(canvas: SourceText, routes: readonly RecordedRoute[]): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const url = element(canvas, 'ExtlClntAppCanvasSettings', 'canvasUrl') ?? '';
  const served =
    'routes the server registers (CANVAS_PATH in remote-system/src/ui-integration/contract.ts)';
  let pathname = '';
  try {
    pathname = new URL(url).pathname;
  } catch {
    // reported below
  }
  const route = routes.find((r) => r.url === pathname && r.method === 'POST');
  if (route === undefined) {
    findings.push({
      at: at(canvas, '<canvasUrl>'),
      message: `canvasUrl ${url} has no POST route ${pathname} on the ERP`,
      other: served
    });
  }
  const method = element(canvas, 'ExtlClntAppCanvasSettings', 'accessMethod');
  if (method !== 'Post') {
    findings.push({
      at: at(canvas, '<accessMethod>'),
      message: `accessMethod is ${method ?? 'missing'}: the ERP verifies a POSTed signed request (Post)`,
      other: served
    });
  }
  return findings;
}

/** The host page opens this app, passes the record id parameter and the record fields the ERP reads. */
function checkHostPage(page: SourceText, eca: SourceText): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const developerName = canvasAttribute(page, 'developerName');
  if (developerName !== ecaName(eca)) {
    findings.push({
      at: at(page, 'developerName='),
      message: `apex:canvasApp developerName ${developerName ?? 'missing'} is not the External Client App ${ecaName(eca)}`,
      other: { file: eca.file, line: 1 }
    });
  }
  const parameters = canvasAttribute(page, 'parameters') ?? '';
  if (!new RegExp(`[{,]\\s*'?${RECORD_ID_PARAMETER}'?\\s*:`).test(parameters)) {
    findings.push({
      at: at(page, 'parameters='),
      message: `apex:canvasApp parameters ${parameters} lack ${RECORD_ID_PARAMETER}`,
      other: 'RECORD_ID_PARAMETER in remote-system/src/ui-integration/contract.ts'
    });
  }
  const entityFields = (canvasAttribute(page, 'entityFields') ?? '')
    .split(',')
    .map((f) => f.trim());
  for (const field of ['Id', 'Name']) {
    if (!entityFields.includes(field) && !entityFields.includes('*')) {
      findings.push({
        at: at(page, 'entityFields='),
        message: `apex:canvasApp entityFields lack ${field}, which the canvas page reads from the Record object`,
        other: 'opportunityOf() in remote-system/src/ui-integration/index.ts'
      });
    }
  }
  const subscribed = /subscribe\(\{\s*name:\s*'([^']+)'/.exec(page.text)?.[1];
  if (subscribed !== PRICE_CHOSEN_EVENT) {
    findings.push({
      at: at(page, /subscribe\(/),
      message: `the page subscribes to ${subscribed ?? 'no event'}, the canvas page publishes ${PRICE_CHOSEN_EVENT}`,
      other: 'PRICE_CHOSEN_EVENT in remote-system/src/ui-integration/contract.ts'
    });
  }
  for (const match of page.text.matchAll(/\bevent\.([A-Za-z]+)/g)) {
    const key = match[1] ?? '';
    if (!(PRICE_CHOSEN_KEYS as readonly string[]).includes(key)) {
      findings.push({
        at: { file: page.file, line: lineOf(page.text, new RegExp(`event\\.${key}\\b`)) ?? 1 },
        message: `the page reads event.${key}, which ${PRICE_CHOSEN_EVENT} does not carry (${PRICE_CHOSEN_KEYS.join(', ')})`,
        other: 'PRICE_CHOSEN_KEYS in remote-system/src/ui-integration/contract.ts'
      });
    }
  }
  return findings;
}

/** Each field the ERP writes exists with a type that takes the value, and the persona may edit it. */
function checkWrittenFields(
  fields: ReadonlyMap<string, SourceText | undefined>,
  permissionSet: SourceText
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const expectedTypes: Record<string, string> = {
    [WRITE_BACK_FIELDS.price]: 'Currency',
    [WRITE_BACK_FIELDS.basis]: 'Text'
  };
  for (const name of Object.keys(writeBackBody(100, 'basis'))) {
    const source = fields.get(name);
    if (source === undefined) {
      findings.push({
        at: { file: FILES.field(name), line: 1 },
        message: `${WRITE_BACK_OBJECT}.${name}, which the ERP writes, has no field file`,
        other: 'writeBackBody() in remote-system/src/ui-integration/write-back.ts'
      });
      continue;
    }
    const type = element(source, 'CustomField', 'type');
    if (type !== expectedTypes[name]) {
      findings.push({
        at: at(source, '<type>'),
        message: `${WRITE_BACK_OBJECT}.${name} is ${type ?? 'untyped'}; the ERP writes a ${expectedTypes[name] ?? 'value'}`,
        other: 'writeBackBody() in remote-system/src/ui-integration/write-back.ts'
      });
    }
    if (
      name === WRITE_BACK_FIELDS.basis &&
      Number(element(source, 'CustomField', 'length')) < 255
    ) {
      findings.push({
        at: at(source, '<length>'),
        message: `${WRITE_BACK_OBJECT}.${name} is shorter than the 255 characters the ERP writes`,
        other: 'PricingTool.quote() in remote-system/src/ui-integration/pricing.ts'
      });
    }
    const editable = new RegExp(
      `<editable>true</editable>\\s*<field>${escapeRegExp(`${WRITE_BACK_OBJECT}.${name}`)}</field>`
    ).test(permissionSet.text);
    if (!editable) {
      findings.push({
        at: at(permissionSet, '<fieldPermissions>'),
        message: `the persona cannot edit ${WRITE_BACK_OBJECT}.${name}, so the write-back with the user's token fails`,
        other: { file: source.file, line: 1 }
      });
    }
  }
  return findings;
}

/** The OAuth policy pre-authorizes the pattern's permission set. */
function checkPolicy(policy: SourceText, permissionSet: SourceText): DriftFinding[] {
  const name = permissionSet.file.split('/').pop()?.replace('.permissionset-meta.xml', '') ?? '';
  const listed = (
    element(policy, 'ExtlClntAppOauthConfigurablePolicies', 'commaSeparatedPermissionSet') ?? ''
  )
    .split(',')
    .map((s) => s.trim());
  const findings: DriftFinding[] = [];
  if (!listed.includes(name)) {
    findings.push({
      at: at(policy, '<commaSeparatedPermissionSet>'),
      message: `the OAuth policy pre-authorizes ${listed.join(', ') || 'no permission set'}, not ${name}`,
      other: { file: permissionSet.file, line: 1 }
    });
  }
  if (
    element(policy, 'ExtlClntAppOauthConfigurablePolicies', 'permittedUsersPolicyType') !==
    'AdminApprovedPreAuthorized'
  ) {
    findings.push({
      at: at(policy, '<permittedUsersPolicyType>'),
      message:
        'Signed Request access needs admin-approved, pre-authorized users (AdminApprovedPreAuthorized)',
      other: 'docs/patterns/ui-integration.md'
    });
  }
  return findings;
}

/** The contract examples say what both halves say. */
function checkContract(contract: SourceText, canvas: SourceText, page: SourceText): DriftFinding[] {
  const json = JSON.parse(contract.text) as {
    canvas: { path: string; parameters: Record<string, unknown>; developerName: string };
    writeBack: { object: string; request: { body: Record<string, unknown> } };
    event: { name: string; payload: Record<string, unknown> };
  };
  const findings: DriftFinding[] = [];
  const differs = (path: string, found: unknown, expected: unknown, other: string): void => {
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      findings.push({
        at: at(contract, `"${path}"`),
        message: `${path} is ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`,
        other
      });
    }
  };
  const canvasPath = new URL(element(canvas, 'ExtlClntAppCanvasSettings', 'canvasUrl') ?? 'x:/')
    .pathname;
  differs('path', json.canvas.path, CANVAS_PATH, 'CANVAS_PATH');
  differs('path', json.canvas.path, canvasPath, canvas.file);
  differs(
    'developerName',
    json.canvas.developerName,
    canvasAttribute(page, 'developerName'),
    page.file
  );
  differs(
    'parameters',
    Object.keys(json.canvas.parameters),
    [RECORD_ID_PARAMETER],
    'RECORD_ID_PARAMETER'
  );
  differs('object', json.writeBack.object, WRITE_BACK_OBJECT, 'WRITE_BACK_OBJECT');
  differs(
    'body',
    Object.keys(json.writeBack.request.body).sort(),
    Object.keys(writeBackBody(1, 'x')).sort(),
    'writeBackBody()'
  );
  differs('name', json.event.name, PRICE_CHOSEN_EVENT, 'PRICE_CHOSEN_EVENT');
  differs(
    'payload',
    Object.keys(json.event.payload).sort(),
    [...PRICE_CHOSEN_KEYS].sort(),
    'PRICE_CHOSEN_KEYS'
  );
  return findings;
}

describe('ui-integration drift between the halves', () => {
  const canvas = readSource(FILES.canvas);
  const eca = readSource(FILES.eca);
  const policy = readSource(FILES.policy);
  const page = readSource(FILES.page);
  const permissionSet = readSource(FILES.permissionSet);
  const contract = readSource(FILES.contract);
  const fields = new Map<string, SourceText | undefined>(
    Object.values(WRITE_BACK_FIELDS).map((name) => [name, readSource(FILES.field(name))] as const)
  );
  const routes: RecordedRoute[] = [];

  beforeAll(async () => {
    // The routes as the real composition root mounts them (patternModules, as `npm start` does).
    const modules = patternModules(testConfig()).map((m) =>
      m.name === 'ui-integration' ? recordRoutes(m, routes) : m
    );
    const server = await startTestServer({ patterns: modules });
    await server.close();
  });

  it('canvas settings against the ERP route', () => {
    expect(routes.map((r) => `${r.method} ${r.url}`)).toContain(`POST ${CANVAS_PATH}`);
    expect(formatFindings(checkCanvasUrl(canvas, routes))).toEqual([]);
    const moved = {
      ...canvas,
      text: canvas.text.replace('/ui-integration/canvas<', '/ui-integration/pricing<')
    };
    expect(formatFindings(checkCanvasUrl(moved, routes))).toEqual([
      expect.stringMatching(
        /ecaCanvas-meta\.xml:\d+ canvasUrl .*\/ui-integration\/pricing has no POST route/
      )
    ]);
    const get = {
      ...canvas,
      text: canvas.text.replace('<accessMethod>Post<', '<accessMethod>Get<')
    };
    expect(formatFindings(checkCanvasUrl(get, routes))).toEqual([
      expect.stringContaining('accessMethod is Get')
    ]);
    expect(
      formatFindings(
        checkCanvasUrl(
          canvas,
          routes.filter((r) => r.url !== CANVAS_PATH)
        )
      )
    ).toHaveLength(1);
  });

  it('Visualforce host against the app, the parameters, the record fields and the event', () => {
    expect(formatFindings(checkHostPage(page, eca))).toEqual([]);
    const renamed = {
      ...page,
      text: page.text.replace(`name: '${PRICE_CHOSEN_EVENT}'`, "name: 'erp.priceSaved'")
    };
    expect(formatFindings(checkHostPage(renamed, eca))).toEqual([
      expect.stringMatching(/ErpPricingCanvas\.page:\d+ the page subscribes to erp\.priceSaved/)
    ]);
    const key = { ...page, text: page.text.replace('event.basis', 'event.pricingBasis') };
    expect(formatFindings(checkHostPage(key, eca))).toEqual([
      expect.stringContaining('reads event.pricingBasis')
    ]);
    const parameter = { ...page, text: page.text.replace('{recordId:', '{opportunityId:') };
    expect(formatFindings(checkHostPage(parameter, eca))).toEqual([
      expect.stringContaining('lack recordId')
    ]);
    const fieldsGone = {
      ...page,
      text: page.text.replace('entityFields="Id,Name"', 'entityFields="Id"')
    };
    expect(formatFindings(checkHostPage(fieldsGone, eca))).toEqual([
      expect.stringContaining('lack Name')
    ]);
    const otherApp = { ...eca, file: eca.file.replace('ERP_Pricing_Canvas', 'ERP_Pricing') };
    expect(formatFindings(checkHostPage(page, otherApp))).toEqual([
      expect.stringContaining('is not the External Client App ERP_Pricing')
    ]);
  });

  it('written fields against the field metadata and the permission set', () => {
    expect(formatFindings(checkWrittenFields(fields, permissionSet))).toEqual([]);
    const price = fields.get(WRITE_BACK_FIELDS.price);
    const asText = new Map(fields);
    asText.set(
      WRITE_BACK_FIELDS.price,
      price && { ...price, text: price.text.replace('<type>Currency<', '<type>Text<') }
    );
    expect(formatFindings(checkWrittenFields(asText, permissionSet))).toEqual([
      expect.stringMatching(
        /ERP_Quoted_Price__c\.field-meta\.xml:\d+ Opportunity\.ERP_Quoted_Price__c is Text/
      )
    ]);
    const missing = new Map(fields);
    missing.set(WRITE_BACK_FIELDS.basis, undefined);
    expect(formatFindings(checkWrittenFields(missing, permissionSet))).toEqual([
      expect.stringContaining('ERP_Pricing_Basis__c, which the ERP writes, has no field file')
    ]);
    const readOnly = {
      ...permissionSet,
      text: permissionSet.text.replace(
        /<editable>true<\/editable>(\s*<field>Opportunity\.ERP_Quoted_Price__c)/,
        '<editable>false</editable>$1'
      )
    };
    expect(formatFindings(checkWrittenFields(fields, readOnly))).toEqual([
      expect.stringMatching(
        /UI_Integration_User\.permissionset-meta\.xml:\d+ the persona cannot edit Opportunity\.ERP_Quoted_Price__c/
      )
    ]);
  });

  it('OAuth policy against the permission set', () => {
    expect(formatFindings(checkPolicy(policy, permissionSet))).toEqual([]);
    const other = { ...policy, text: policy.text.replace('UI_Integration_User', 'Some_Other_Set') };
    expect(formatFindings(checkPolicy(other, permissionSet))).toEqual([
      expect.stringContaining('pre-authorizes Some_Other_Set, not UI_Integration_User')
    ]);
  });

  it('contract examples against both halves', () => {
    expect(formatFindings(checkContract(contract, canvas, page))).toEqual([]);
    const renamed = {
      ...contract,
      text: contract.text.replace('"currency": "USD"', '"currencyCode": "USD"')
    };
    expect(formatFindings(checkContract(renamed, canvas, page))).toEqual([
      expect.stringMatching(/UiIntegrationContract\.json:\d+ payload is/)
    ]);
    const body = {
      ...contract,
      text: contract.text.replace('"ERP_Quoted_Price__c": 1187.5', '"Amount": 1187.5')
    };
    expect(formatFindings(checkContract(body, canvas, page))).toEqual([
      expect.stringContaining('body is')
    ]);
  });
});
