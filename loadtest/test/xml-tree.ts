/** A parsed XML element: enough structure for tests to find SVG series and check their content. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);/;

/**
 * A strict parser for the XML subset the SVG writer emits (prolog, elements,
 * attributes, text with entities). Throws on anything not well formed:
 * unbalanced or mismatched tags, unquoted or duplicate attributes, a raw `<`
 * or `&` in text or attribute values, more than one root, trailing content.
 * Test-only: no DTDs, CDATA, comments or processing instructions past the prolog.
 */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (message: string): never => {
    throw new Error(
      `malformed XML at ${pos}: ${message}: ${JSON.stringify(source.slice(pos, pos + 40))}`,
    );
  };
  const skipSpace = (): void => {
    while (pos < source.length && /\s/.test(source[pos] as string)) pos++;
  };
  const readName = (): string => {
    const match = NAME.exec(source.slice(pos));
    if (!match) return fail('expected a name');
    pos += match[0].length;
    return match[0];
  };
  const readChars = (stop: string): string => {
    let out = '';
    while (pos < source.length && !stop.includes(source[pos] as string)) {
      const ch = source[pos] as string;
      if (ch === '<') fail('raw < in character data');
      if (ch === '&') {
        const entity = ENTITY.exec(source.slice(pos));
        if (!entity) fail('bare &');
        out += entity?.[0] ?? '';
        pos += entity?.[0].length ?? 1;
        continue;
      }
      out += ch;
      pos++;
    }
    return out;
  };

  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) fail('unterminated prolog');
    pos = end + 2;
  }
  skipSpace();

  const parseElement = (): XmlElement => {
    if (source[pos] !== '<') fail('expected <');
    pos++;
    const element: XmlElement = { name: readName(), attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', pos)) {
        pos += 2;
        return element;
      }
      if (source[pos] === '>') {
        pos++;
        break;
      }
      const attr = readName();
      if (attr in element.attrs) fail(`duplicate attribute ${attr}`);
      skipSpace();
      if (source[pos] !== '=') fail('expected =');
      pos++;
      skipSpace();
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") fail('unquoted attribute value');
      pos++;
      element.attrs[attr] = readChars(quote as string);
      if (source[pos] !== quote) fail('unterminated attribute value');
      pos++;
    }
    for (;;) {
      element.text += readChars('<');
      if (pos >= source.length) fail(`unclosed <${element.name}>`);
      if (source.startsWith('</', pos)) {
        pos += 2;
        const closing = readName();
        if (closing !== element.name) fail(`</${closing}> closes <${element.name}>`);
        skipSpace();
        if (source[pos] !== '>') fail('expected >');
        pos++;
        return element;
      }
      element.children.push(parseElement());
    }
  };

  const root = parseElement();
  skipSpace();
  if (pos !== source.length) fail('content after the root element');
  return root;
}

/** Every element of the tree, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}
