/**
 * "Same shape" for JSON values: the same keys (no more, no fewer) with the same JSON types, recursively; every element
 * of an array has the shape of the example's first element. Values are not compared: the contract fixes the form of
 * the reply, the data behind it may differ.
 */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function shapeDifferences(expected: unknown, actual: unknown, at = '$'): string[] {
  const expectedType = jsonType(expected);
  const actualType = jsonType(actual);
  if (expectedType !== actualType) {
    return [`${at}: expected ${expectedType}, got ${actualType}`];
  }
  if (expectedType === 'array') {
    const template = (expected as unknown[])[0];
    if (template === undefined) return [];
    return (actual as unknown[]).flatMap((item, index) =>
      shapeDifferences(template, item, `${at}[${index}]`)
    );
  }
  if (expectedType === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const differences: string[] = [];
    for (const key of Object.keys(e)) {
      if (!(key in a)) differences.push(`${at}.${key}: missing`);
      else differences.push(...shapeDifferences(e[key], a[key], `${at}.${key}`));
    }
    for (const key of Object.keys(a)) {
      if (!(key in e)) differences.push(`${at}.${key}: unexpected`);
    }
    return differences;
  }
  return [];
}
