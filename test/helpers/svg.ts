/**
 * A small XML well-formedness check for generated SVG (no parser dependency): balanced tags, one
 * root, quoted attributes (each at most once per element), known entities only. Throws on the first problem.
 */
export interface SvgDocument {
  root: string;
  count(tag: string): number;
}

const TOKEN = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;

export function checkSvg(text: string): SvgDocument {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  let root = '';
  let last = 0;
  const checkText = (chunk: string) => {
    if (/[<>]/.test(chunk)) throw new Error(`stray markup in text: ${JSON.stringify(chunk.slice(0, 80))}`);
    for (const m of chunk.matchAll(/&([^;\s]*);?/g))
      if (!/^(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(m[1] ?? '') || !m[0].endsWith(';')) throw new Error(`bad entity ${m[0]}`);
  };
  for (const m of text.matchAll(TOKEN)) {
    checkText(text.slice(last, m.index));
    last = (m.index ?? 0) + m[0].length;
    if (m[0].startsWith('<!--') || m[0].startsWith('<?')) continue;
    const [, closing, name = '', attrs = '', selfClosing] = m;
    checkText(attrs.replace(/="[^"]*"/g, (a) => a.replace(/[<>]/g, '')));
    const names = [...attrs.matchAll(/([\w:-]+)="/g)].map((n) => n[1] as string);
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated) throw new Error(`attribute ${repeated} repeated in <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${String(open)}>`);
      continue;
    }
    if (stack.length === 0) {
      if (root) throw new Error(`second root element <${name}>`);
      root = name;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (!selfClosing) stack.push(name);
  }
  checkText(text.slice(last));
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (!root) throw new Error('no root element');
  return { root, count: (tag) => counts.get(tag) ?? 0 };
}
