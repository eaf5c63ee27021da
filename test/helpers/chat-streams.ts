/**
 * A streamed chat completion read to its end through the official `openai` SDK, as the provider
 * suites check it: the text, how many chunks carried it, the last finish reason and the usage chunk.
 */
import type OpenAI from 'openai';

export interface ReadChatStream {
  text: string;
  chunks: number;
  finish: string | null;
  usage: OpenAI.CompletionUsage | null | undefined;
}

export async function readChatStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<ReadChatStream> {
  const read: ReadChatStream = { text: '', chunks: 0, finish: null, usage: undefined };
  for await (const chunk of stream) {
    read.chunks += 1;
    read.text += chunk.choices[0]?.delta?.content ?? '';
    read.finish = chunk.choices[0]?.finish_reason ?? read.finish;
    read.usage = chunk.usage ?? read.usage;
  }
  return read;
}
