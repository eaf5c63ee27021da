/**
 * Characters of generated text in one parsed OpenAI-framed stream event: a chat chunk's content,
 * refusal and tool-call arguments, a legacy completion chunk's text, a Responses `*.delta`. What a
 * stream's token estimate counts when the stream reports no usage: the key rate limits
 * (`coordination/stream-usage.ts`) and the spend ledger (`spend/stream-usage-meter.ts`) both read it.
 */
interface StreamEvent {
  type?: unknown;
  delta?: unknown;
  choices?: Array<{ text?: unknown; delta?: { content?: unknown; refusal?: unknown; tool_calls?: Array<{ function?: { arguments?: unknown } }> } }>;
}

export function generatedCharsOfEvent(parsed: unknown): number {
  if (typeof parsed !== 'object' || parsed === null) return 0;
  const event = parsed as StreamEvent;
  // Responses: `response.output_text.delta`, `response.function_call_arguments.delta`, ...
  if (typeof event.type === 'string') return event.type.endsWith('.delta') && typeof event.delta === 'string' ? event.delta.length : 0;
  let chars = 0;
  for (const choice of Array.isArray(event.choices) ? event.choices : []) {
    // A legacy completion's chunk carries its text in `choices[].text`.
    if (typeof choice?.text === 'string') chars += choice.text.length;
    const delta = choice?.delta;
    if (delta === undefined || delta === null) continue;
    if (typeof delta.content === 'string') chars += delta.content.length;
    if (typeof delta.refusal === 'string') chars += delta.refusal.length;
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) if (typeof call?.function?.arguments === 'string') chars += call.function.arguments.length;
  }
  return chars;
}
