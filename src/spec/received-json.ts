/**
 * A client's JSON body kept with the text it was parsed from, so that a body the gateway sends
 * upstream unchanged (the usual OpenAI pass-through) goes as the client's own text instead of
 * being serialised again (`JSON.stringify` of a whole conversation, on every request).
 *
 * The text belongs to the parsed object itself (a WeakMap keyed by it): a body that is changed on
 * its way is changed in a copy (`{ ...body, model }`, request shaping, a provider's translation),
 * and a copy has no received text, so it is serialised as before. Code that changes a parsed
 * body in place would break that; nothing does (a parsed body is read, then copied).
 */

const receivedTexts = new WeakMap<object, string>();

/**
 * Keeps `text` as the received text of `value`, its `JSON.parse`. Only for a text without `\u`
 * escapes: in it a key is spelled one way only, which `receivedTextWithModel` relies on.
 */
export function keepReceivedText(value: object, text: string): void {
  receivedTexts.set(value, text);
}

/** The text `value` was parsed from, if it is a received body. */
export function receivedTextOf(value: object): string | undefined {
  return receivedTexts.get(value);
}

const MODEL_KEY = '"model"';

/**
 * The received text of `body` when it is what `{ ...body, model }` would serialise to: `body`
 * is a received body whose `model` already is `model`. Else undefined (serialise the copy).
 *
 * The text must name `"model"` once: with a key given twice, `JSON.parse` keeps the last one
 * while another parser may keep the first, so the upstream could read a model other than the one
 * routed and checked here. (`"model"` inside a string value also counts: such a text is only
 * serialised again, never wrong.)
 */
export function receivedTextWithModel(body: Record<string, unknown>, model: string): string | undefined {
  if (body.model !== model) return undefined;
  const text = receivedTexts.get(body);
  if (text === undefined) return undefined;
  const first = text.indexOf(MODEL_KEY);
  if (first === -1 || text.indexOf(MODEL_KEY, first + MODEL_KEY.length) !== -1) return undefined;
  return text;
}
