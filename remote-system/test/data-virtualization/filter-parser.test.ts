import { ODataQueryError } from '../../src/data-virtualization/errors';
import {
  parseFilter,
  tokenize,
  type FilterNode
} from '../../src/data-virtualization/filter-parser';

/** Fully parenthesised rendering of a tree, so precedence is visible in one string. */
function show(node: FilterNode): string {
  switch (node.kind) {
    case 'literal':
      if (node.value === null) return 'null';
      if (typeof node.value === 'object') return `dt(${node.value.seconds}+${node.value.fraction})`;
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    case 'property':
      return node.property.name;
    case 'compare':
      return `(${show(node.left)} ${node.op} ${show(node.right)})`;
    case 'and':
    case 'or':
      return `(${show(node.left)} ${node.kind} ${show(node.right)})`;
    case 'not':
      return `(not ${show(node.operand)})`;
    case 'call':
      return `${node.name}(${show(node.args[0])}, ${show(node.args[1])})`;
    case 'in':
      return `(${show(node.operand)} in [${node.list.map(show).join(', ')}])`;
  }
}

const parse = (text: string): string => show(parseFilter(text));

function errorOf(text: string): ODataQueryError {
  try {
    parseFilter(text);
  } catch (error) {
    if (error instanceof ODataQueryError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('$filter precedence and associativity', () => {
  it.each([
    // and binds tighter than or, on either side
    [
      "Status eq 'A' or Status eq 'B' and Carrier eq 'C'",
      '((Status eq "A") or ((Status eq "B") and (Carrier eq "C")))'
    ],
    [
      "Status eq 'A' and Status eq 'B' or Carrier eq 'C'",
      '(((Status eq "A") and (Status eq "B")) or (Carrier eq "C"))'
    ],
    // not binds tighter than and/or: the case the npm parsers get wrong
    [
      "not contains(Carrier,'U') and Status eq 'X'",
      '((not contains(Carrier, "U")) and (Status eq "X"))'
    ],
    ['not IsInsured or IsInsured', '((not IsInsured) or IsInsured)'],
    ['not not IsInsured', '(not (not IsInsured))'],
    // parentheses override
    [
      "not (contains(Carrier,'U') and Status eq 'X')",
      '(not (contains(Carrier, "U") and (Status eq "X")))'
    ],
    [
      "(Status eq 'A' or Status eq 'B') and Carrier eq 'C'",
      '(((Status eq "A") or (Status eq "B")) and (Carrier eq "C"))'
    ],
    // left associativity
    [
      'IsInsured and IsInsured and not IsInsured',
      '((IsInsured and IsInsured) and (not IsInsured))'
    ],
    ['IsInsured or IsInsured or IsInsured', '((IsInsured or IsInsured) or IsInsured)'],
    // relational binds tighter than equality: (a gt 1) eq true
    ['WeightKg gt 1 eq true', '((WeightKg gt 1) eq true)'],
    ['true eq WeightKg lt 2', '(true eq (WeightKg lt 2))'],
    // not binds tighter than comparison (OData table): (not IsInsured) eq false
    ['not IsInsured eq false', '((not IsInsured) eq false)'],
    // in is primary: tighter than not
    ["not Status in ('A','B')", '(not (Status in ["A", "B"]))'],
    ["Status in ('A') and IsInsured", '((Status in ["A"]) and IsInsured)'],
    // redundant parentheses and whitespace
    ["((( Status  eq\t'A' )))", '(Status eq "A")'],
    [
      "startswith(Carrier,'D')or endswith(Carrier,'L')",
      '(startswith(Carrier, "D") or endswith(Carrier, "L"))'
    ]
  ])('%s', (input, expected) => {
    expect(parse(input)).toBe(expected);
  });
});

describe('$filter literals', () => {
  it.each([
    ["Carrier eq 'it''s'", '(Carrier eq "it\'s")'],
    ["Carrier eq ''''", '(Carrier eq "\'")'],
    ["Carrier eq ''", '(Carrier eq "")'],
    ["Carrier eq 'a and b or not c'", '(Carrier eq "a and b or not c")'],
    ["Carrier eq 'Zürich 東京'", '(Carrier eq "Zürich 東京")'],
    ["Carrier eq '(x)'", '(Carrier eq "(x)")'],
    ['PackageCount eq 42', '(PackageCount eq 42)'],
    ['PackageCount eq -42', '(PackageCount eq -42)'],
    ['PackageCount eq 0', '(PackageCount eq 0)'],
    ['WeightKg eq 1.5', '(WeightKg eq 1.5)'],
    ['WeightKg eq -0.25', '(WeightKg eq -0.25)'],
    ['WeightKg lt 1e3', '(WeightKg lt 1000)'],
    ['WeightKg lt 2.5E-2', '(WeightKg lt 0.025)'],
    ['WeightKg lt 1e+2', '(WeightKg lt 100)'],
    ['DeclaredValue ge 9007199254740991', '(DeclaredValue ge 9007199254740991)'],
    ['IsInsured eq true', '(IsInsured eq true)'],
    ['IsInsured eq FALSE', '(IsInsured eq false)'],
    ['DeliveredAt eq null', '(DeliveredAt eq null)'],
    ['null eq DeliveredAt', '(null eq DeliveredAt)'],
    ['EstimatedDelivery eq 2024-02-29', '(EstimatedDelivery eq "2024-02-29")'],
    ['ShippedAt gt 2024-01-31T10:20:30Z', '(ShippedAt gt dt(2024-01-31T10:20:30Z+000000000000))'],
    ['ShippedAt gt 2024-01-31T10:20Z', '(ShippedAt gt dt(2024-01-31T10:20:00Z+000000000000))'],
    [
      'ShippedAt gt 2024-01-31T10:20:30.125Z',
      '(ShippedAt gt dt(2024-01-31T10:20:30Z+125000000000))'
    ],
    // offsets are normalised to UTC, across a day and a year boundary
    [
      'ShippedAt gt 2024-01-01T01:30:00+02:00',
      '(ShippedAt gt dt(2023-12-31T23:30:00Z+000000000000))'
    ],
    [
      'ShippedAt gt 2024-12-31T23:00:00-01:30',
      '(ShippedAt gt dt(2025-01-01T00:30:00Z+000000000000))'
    ]
  ])('%s', (input, expected) => {
    expect(parse(input)).toBe(expected);
  });

  it('tokenises a string literal containing doubled quotes as one token', () => {
    const tokens = tokenize("'a''b''''c'");
    expect(tokens.map((t) => t.kind)).toEqual(['string', 'end']);
    expect(tokens[0]?.value).toBe("a'b''c");
  });
});

describe('$filter functions and in', () => {
  it.each([
    ["contains(DestinationCity,'ich')", 'contains(DestinationCity, "ich")'],
    ["startswith(ShipmentNumber, 'SHP-00')", 'startswith(ShipmentNumber, "SHP-00")'],
    ["endswith(DestinationCity,'on')", 'endswith(DestinationCity, "on")'],
    ['contains(DestinationCity,Carrier)', 'contains(DestinationCity, Carrier)'],
    ["contains('abc','b')", 'contains("abc", "b")'],
    ["contains(Carrier,'x') eq false", '(contains(Carrier, "x") eq false)'],
    ["Status in ('Delivered','In Transit', null)", '(Status in ["Delivered", "In Transit", null])'],
    ['PackageCount in (1, 2, 3)', '(PackageCount in [1, 2, 3])'],
    ['EstimatedDelivery in (2024-01-01)', '(EstimatedDelivery in ["2024-01-01"])']
  ])('%s', (input, expected) => {
    expect(parse(input)).toBe(expected);
  });
});

describe('$filter errors carry the position of the fault', () => {
  it.each([
    ['', 0, 'Empty'],
    ['Status eq', 9, 'Expected an operand'],
    ["Status eq 'open", 10, 'Unterminated string'],
    ["Nope eq 'x'", 0, "Unknown property 'Nope'"],
    ["status eq 'x'", 0, "Unknown property 'status'"],
    ["Status eq 'x' and", 17, 'Expected an operand'],
    ["Status eq 'x')", 13, "Unexpected ')'"],
    ["(Status eq 'x'", 14, "Expected ')'"],
    ['Status eq 5', 7, 'Cannot compare string with number'],
    ["PackageCount eq '5'", 13, 'Cannot compare number with string'],
    ['ShippedAt gt 2024-01-01', 10, 'Cannot compare datetime with date'],
    ['EstimatedDelivery gt 2024-01-01T00:00:00Z', 18, 'Cannot compare date with datetime'],
    ['IsInsured gt false', 10, "'gt' does not apply to Boolean"],
    ['Status', 0, 'Expected a Boolean expression'],
    ["not Status eq 'x'", 4, "Operand of 'not' must be a Boolean"],
    ['IsInsured and PackageCount', 14, 'Expected a Boolean expression'],
    ['WeightKg add 1 gt 2', 9, "Operator 'add' is not supported"],
    ['PackageCount mod 2 eq 0', 13, "Operator 'mod' is not supported"],
    ["tolower(Carrier) eq 'ups'", 0, "Function 'tolower' is not supported"],
    ['contains(Carrier)', 16, "Expected ','"],
    ["contains(Carrier,'a','b')", 20, "Expected ')'"],
    ['contains(Carrier,5)', 17, 'Arguments of contains must be strings'],
    ['EstimatedDelivery eq 2024-02-30', 21, 'Invalid date'],
    ['EstimatedDelivery eq 2023-02-29', 21, 'Invalid date'],
    ['EstimatedDelivery eq 2024-13-01', 21, 'Invalid date'],
    ['ShippedAt eq 2024-01-01T24:00:00Z', 13, 'Invalid time'],
    ['ShippedAt eq 2024-01-01T10:00:00', 13, 'Malformed'],
    ['ShippedAt eq 2024-01-01T10:00:00+25:00', 13, 'Invalid time zone'],
    ['PackageCount eq 12abc', 16, 'Malformed'],
    ['PackageCount eq 1.', 16, 'Malformed'],
    ['PackageCount eq 99999999999999999999', 16, 'out of range'],
    ['PackageCount eq -Carrier', 16, 'Unary minus'],
    ['Carrier eq "UPS"', 11, "Unexpected character '\"'"],
    ['Carrier/Name eq 1', 7, 'Navigation'],
    ["Status in 'x'", 10, "Expected '('"],
    ["Status in ('x' 'y')", 15, "Expected ',' or ')'"],
    ['Status in (Carrier)', 11, 'must be literals'],
    ['Status in (1)', 11, 'Cannot compare string with number'],
    ['IsInsured in (true)', 0, "Left operand of 'in'"],
    ['eq', 0, "operator 'eq'"],
    ['Status eq and', 10, "operator 'and'"],
    ['$it eq 1', 0, "Unexpected character '$'"],
    ["Status eq 'x' or or", 17, "operator 'or'"]
  ])('%j → position %d', (input, position, message) => {
    const error = errorOf(input);
    expect(error.position).toBe(position);
    expect(error.message).toContain(message);
    expect(error.message).toContain(`at position ${position}`);
    expect(error.status).toBe(400);
    expect(error.target).toBe('$filter');
  });
});
