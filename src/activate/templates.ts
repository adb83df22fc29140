/**
 * Message templates: Liquid (liquidjs), rendered per person by the engine before a message item
 * reaches its connector, and validated by the API before a template is saved.
 *
 * - A template is a record of fields (`subject`, `html`, `text`, an SMS `body`, ...). The `html`
 *   field is rendered with every output HTML-escaped (a trait holding `<script>` arrives as
 *   text; `| raw` opts out deliberately); the other fields are plain text.
 * - Unknown filters are errors (`strictFilters`), so a typo is refused at save time instead of
 *   silently printing nothing. Unknown variables render empty: a missing trait is normal.
 * - Templates cannot reach files: `include`, `render` and `layout` are refused when parsing, and
 *   the engines have an empty in-memory file system besides.
 * - Parses are cached per template text; parse, render time and memory are bounded (DoS).
 *
 * @example
 *   validateTemplate({ subject: 'Hi {{ traits.first_name | capitalize }}' }) // → []
 *   renderTemplate({ subject: 'Hi {{ traits.first_name }}' }, { traits: { first_name: 'Ana' }, profile: { id: 'prf_1' } })
 *   // → { subject: 'Hi Ana' }
 */
import { Liquid, Tag, type Template, type TagToken, type TopLevelToken } from 'liquidjs';

/** What a template sees. */
export interface TemplateVars {
  traits: Record<string, unknown>;
  profile: { id: string };
  /** The message's signed links, for templates that place them themselves. */
  links?: { unsubscribe?: string; open?: string; status?: string };
  /** Anything else the engine offers (e.g. the triggering event's properties). */
  [name: string]: unknown;
}

export interface TemplateError {
  /** The template field, e.g. `subject`. */
  field: string;
  /** Liquid's message, with line and column. */
  message: string;
}

/** The field rendered as HTML (escaped output). */
export const HTML_FIELD = 'html';
/** Longest template field accepted (characters). */
export const MAX_FIELD_LENGTH = 200_000;
const PARSE_CACHE_SIZE = 200;

/** Tags that would read other templates (files): refused at parse time with a clear message. */
class Refused extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
    super(token, remain, liquid);
    throw new Error(`tag "${token.name}" is not allowed in message templates`);
  }
  render(): void { /* never constructed */ }
}

function engine(html: boolean): Liquid {
  const e = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    // No file system: an empty in-memory set of partials, and no relative lookups.
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    parseLimit: MAX_FIELD_LENGTH,
    renderLimit: 1000,
    memoryLimit: 1e7,
    ...(html ? { outputEscape: 'escape' as const } : {}),
  });
  for (const name of ['include', 'render', 'layout']) e.registerTag(name, Refused);
  return e;
}

const engines = { html: engine(true), plain: engine(false) };
const cache = new Map<string, Template[]>();

function engineFor(field: string): { liquid: Liquid; id: string } {
  return field === HTML_FIELD ? { liquid: engines.html, id: 'h' } : { liquid: engines.plain, id: 'p' };
}

/** The parsed template of one field's text, from the cache when it was seen before. */
function parsed(field: string, text: string): Template[] {
  const { liquid, id } = engineFor(field);
  const key = `${id}\u0000${text}`;
  const hit = cache.get(key);
  if (hit) {
    // Re-inserted so the least recently used entry is the first one evicted.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  if (text.length > MAX_FIELD_LENGTH) throw new Error(`template field is longer than ${MAX_FIELD_LENGTH} characters`);
  const tpl = liquid.parse(text);
  cache.set(key, tpl);
  if (cache.size > PARSE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return tpl;
}

/**
 * Renders every field of a template for one person. Throws (a Liquid error) when a field does
 * not parse or fails to render; templates are validated when saved, so that is rare.
 */
export function renderTemplate(template: Record<string, string>, vars: TemplateVars): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, text] of Object.entries(template)) {
    const { liquid } = engineFor(field);
    out[field] = String(liquid.renderSync(parsed(field, text), vars));
  }
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Every problem of a template, field by field; empty when it can be saved. */
export function validateTemplate(template: unknown): TemplateError[] {
  if (typeof template !== 'object' || template === null || Array.isArray(template)) {
    return [{ field: '', message: 'a template is an object of text fields' }];
  }
  const errors: TemplateError[] = [];
  for (const [field, text] of Object.entries(template as Record<string, unknown>)) {
    if (typeof text !== 'string') { errors.push({ field, message: 'must be a string' }); continue; }
    try {
      const tpl = parsed(field, text);
      // A trial render with no traits catches what only shows at render time (e.g. limits).
      engineFor(field).liquid.renderSync(tpl, { traits: {}, profile: { id: 'prf_validate' }, links: {} });
    } catch (err) {
      errors.push({ field, message: messageOf(err) });
    }
  }
  return errors;
}
