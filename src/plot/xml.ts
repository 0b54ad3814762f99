/**
 * Markup for the plots: every element is built from an attribute record, so an attribute can appear
 * only once (a later value replaces an earlier one instead of duplicating it, which strict XML
 * rejects), and every attribute value and text is escaped here, not by the callers.
 */
import { fail } from '../errors.js';

/** Attribute values; undefined, null and false leave the attribute out. */
export type Attrs = Readonly<Record<string, string | number | undefined | null | false>>;

const NAME = /^[A-Za-z_][\w.:-]*$/;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A coordinate with two decimals at most. */
export function px(v: number): string {
  // A plot drawn through NaN would be silently wrong: callers leave non-finite values out before this.
  if (!Number.isFinite(v)) fail('KERNEL', `non-finite coordinate ${v} in a plot`);
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
}

function attrText(value: string | number): string {
  return typeof value === 'number' ? px(value) : escapeXml(value);
}

/** Merges attribute records left to right (later values win; one attribute, one value). */
export function mergeAttrs(...records: ReadonlyArray<Attrs | undefined>): Attrs {
  return Object.assign({}, ...records.filter(Boolean)) as Attrs;
}

function openTag(tag: string, attrs: Attrs): string {
  if (!NAME.test(tag)) throw new Error(`bad element name ${JSON.stringify(tag)}`);
  let out = `<${tag}`;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (!NAME.test(name)) throw new Error(`bad attribute name ${JSON.stringify(name)}`);
    out += ` ${name}="${attrText(value)}"`;
  }
  return out;
}

/** An element whose children are markup made by these functions (`el`, `textEl`). */
export function el(tag: string, attrs: Attrs = {}, children: ReadonlyArray<Markup> = []): Markup {
  const open = openTag(tag, attrs);
  // Containers get one child per line (readable files); text-like elements none (no stray spaces).
  const sep = tag === 'svg' || tag === 'g' || tag === 'clipPath' ? '\n' : '';
  return markup(children.length ? `${open}>${sep}${children.map((c) => c.svg).join(sep)}${sep}</${tag}>` : `${open}/>`);
}

/** An element holding text (escaped) and optionally markup after it (e.g. a superscript tspan). */
export function textEl(tag: 'text' | 'tspan' | 'title', attrs: Attrs, text: string, after: ReadonlyArray<Markup> = []): Markup {
  return markup(`${openTag(tag, attrs)}>${escapeXml(text)}${after.map((c) => c.svg).join('')}</${tag}>`);
}

/** Markup is a branded string holder, so raw text cannot be passed where elements are expected. */
export interface Markup {
  readonly svg: string;
}

function markup(svg: string): Markup {
  return { svg };
}

/** A group of siblings without a wrapping element. */
export function fragment(children: ReadonlyArray<Markup | null | undefined>): Markup {
  return markup(children.filter((c): c is Markup => !!c).map((c) => c.svg).join('\n'));
}
