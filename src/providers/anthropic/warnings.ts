/**
 * A request parameter that Anthropic cannot honour as sent, and what Portico did about it
 * (dropped, clamped). Never a silent change: every such change is recorded here and exposed
 * on the call's result (`warnings`).
 */
export interface TranslationWarning {
  /** The OpenAI parameter concerned (`temperature`, `messages[3].name`, ...). */
  param: string;
  message: string;
}
