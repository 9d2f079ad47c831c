/**
 * A small XML element reader for metadata files that keeps where every element starts, so schema errors
 * can point at a line. It expects well-formed input (the metadata check validates that first with
 * fast-xml-parser's XMLValidator), keeps attributes and ignores comments, processing instructions and DOCTYPE.
 */
export interface XmlElement {
  name: string;
  /** 1-based line and column of the `<` that opens the element. */
  line: number;
  column: number;
  children: XmlElement[];
  text: string;
  /** Attribute values by name (entities decoded); absent when the element has none. */
  attributes?: Record<string, string>;
}

const TOKEN =
  /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([^\s>]+)\s*>|<([^\s>/!?]+)((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X'))
      return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

function readAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return out;
}

/** Parses the document element; throws on input it cannot make sense of. */
export function readXml(source: string): XmlElement {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const position = (offset: number): { line: number; column: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  for (const match of source.matchAll(TOKEN)) {
    const [whole, cdata, closing, opening, attributeText, selfClosing, text] = match;
    const current = stack[stack.length - 1];
    if (opening !== undefined) {
      const element: XmlElement = {
        name: opening,
        ...position(match.index),
        children: [],
        text: '',
        ...(attributeText?.trim() ? { attributes: readAttributes(attributeText) } : {})
      };
      if (current) current.children.push(element);
      else if (!root) root = element;
      else throw new Error('more than one document element');
      if (!selfClosing) stack.push(element);
    } else if (closing !== undefined) {
      const open = stack.pop();
      if (!open || open.name !== closing) throw new Error(`unexpected </${closing}>`);
    } else if (cdata !== undefined) {
      if (current) current.text += cdata;
    } else if (text !== undefined) {
      if (current) current.text += decodeEntities(text);
    } else if (whole.startsWith('<') && !/^<(!--|\?|!DOCTYPE)/.test(whole)) {
      throw new Error(`cannot read ${whole.slice(0, 40)}`);
    }
  }
  if (!root) throw new Error('no document element');
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1]!.name}> is not closed`);
  return root;
}

/**
 * The JSON shape the Metadata API types describe: an element with child elements becomes an object (a
 * repeated child becomes an array), a leaf becomes its trimmed text.
 */
export function toJson(element: XmlElement): unknown {
  if (element.children.length === 0) return element.text.trim();
  const out: Record<string, unknown> = {};
  for (const child of element.children) {
    const value = toJson(child);
    const existing = out[child.name];
    if (existing === undefined) out[child.name] = value;
    else if (Array.isArray(existing))
      existing.push(value); // leaves and objects are never arrays themselves
    else out[child.name] = [existing, value];
  }
  return out;
}

/**
 * The element a JSON pointer (ajv's `instancePath`, e.g. `/namedCredentialParameters/0/parameterType`)
 * refers to, or the deepest element on the way there.
 */
export function elementAt(root: XmlElement, pointer: string): XmlElement {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let current = root;
  let candidates: XmlElement[] | undefined;
  for (const segment of segments) {
    if (candidates && /^\d+$/.test(segment)) {
      current = candidates[Number(segment)] ?? current;
      candidates = undefined;
      continue;
    }
    if (candidates) current = candidates[0] ?? current;
    const named = current.children.filter((c) => c.name === segment);
    if (named.length === 0) return current;
    candidates = named;
  }
  if (candidates) current = candidates[0] ?? current;
  return current;
}
