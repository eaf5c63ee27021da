/**
 * What Anthropic's translation records when it cannot honour a parameter as sent: the generic
 * `TranslationWarning` of `spec/provider.ts`, carried on the call's result (`warnings`).
 */
export type { TranslationWarning } from '../../spec/provider.ts';
