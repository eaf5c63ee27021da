/**
 * The `custom_id` a line is sent upstream with: `r<line index>` (safe for Anthropic's
 * `^[a-zA-Z0-9_-]{1,64}$`, unique whatever the client chose), mapped back to the client's id
 * when results return (`custom-id-lookup.ts`). Inline and staged batches share it.
 */
export const surrogateOf = (index: number): string => `r${index}`;

/** The line index of a surrogate; -1 when it is not one. */
export const indexOfSurrogate = (surrogate: string): number => (/^r\d+$/.test(surrogate) ? Number(surrogate.slice(1)) : -1);
