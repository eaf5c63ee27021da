/**
 * The model catalogue against its source. The values below were read from LiteLLM's
 * model_prices_and_context_window.json at commit 00035b69f416be24e2e323c13198d9b7d2d1bdf9 (the
 * commit CATALOGUE_SOURCE names), one entry per family; they are the file's, not the catalogue's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUE_SOURCE, catalogueModel, type CatalogueModel } from './model-catalogue.ts';

/** The entry with its `supports` flags in name order (the file lists them so; order means nothing). */
function entry(name: string): CatalogueModel | undefined {
  const model = catalogueModel(name);
  return model?.supports ? { ...model, supports: [...model.supports].sort() } : model;
}

describe('the model catalogue matches LiteLLM at its commit', () => {
  it('names the commit these values were read from', () => {
    assert.equal(CATALOGUE_SOURCE.commit, '00035b69f416be24e2e323c13198d9b7d2d1bdf9');
  });

  it('Claude 4: claude-sonnet-4-20250514 has a 1,000,000-token input, 64,000 output, no batch prices', () => {
    assert.deepEqual(entry('claude-sonnet-4-20250514'), {
      name: 'claude-sonnet-4-20250514',
      provider: 'anthropic',
      mode: 'chat',
      maxInputTokens: 1_000_000,
      maxOutputTokens: 64_000,
      inputCostPerToken: 3e-6,
      outputCostPerToken: 1.5e-5,
      supports: ['function_calling', 'pdf_input', 'prompt_caching', 'reasoning', 'response_schema', 'vision'],
    });
  });

  it('Claude 3.7: claude-3-7-sonnet-20250219 has 64,000 output tokens', () => {
    const model = catalogueModel('claude-3-7-sonnet-20250219');
    assert.equal(model?.maxInputTokens, 200_000);
    assert.equal(model?.maxOutputTokens, 64_000);
  });

  it('Claude 3: claude-3-haiku-20240307 has no pdf input and no reasoning', () => {
    assert.deepEqual(entry('claude-3-haiku-20240307'), {
      name: 'claude-3-haiku-20240307',
      provider: 'anthropic',
      mode: 'chat',
      maxInputTokens: 200_000,
      maxOutputTokens: 4_096,
      inputCostPerToken: 2.5e-7,
      outputCostPerToken: 1.25e-6,
      supports: ['function_calling', 'prompt_caching', 'response_schema', 'vision'],
    });
  });

  it('o-series: o3-mini, no vision, no batch prices', () => {
    assert.deepEqual(entry('o3-mini'), {
      name: 'o3-mini',
      provider: 'openai',
      mode: 'chat',
      maxInputTokens: 200_000,
      maxOutputTokens: 100_000,
      inputCostPerToken: 1.1e-6,
      outputCostPerToken: 4.4e-6,
      supports: ['function_calling', 'prompt_caching', 'reasoning', 'response_schema'],
    });
    assert.deepEqual(entry('o1')?.supports, ['function_calling', 'pdf_input', 'prompt_caching', 'reasoning', 'response_schema', 'vision']);
  });

  it('embeddings: text-embedding-3-large lists batch prices, text-embedding-ada-002 none', () => {
    assert.deepEqual(entry('text-embedding-3-large'), {
      name: 'text-embedding-3-large',
      provider: 'openai',
      mode: 'embedding',
      maxInputTokens: 8_191,
      inputCostPerToken: 1.3e-7,
      outputCostPerToken: 0,
      inputCostPerTokenBatches: 6.5e-8,
      outputCostPerTokenBatches: 0,
    });
    const ada = catalogueModel('text-embedding-ada-002');
    assert.equal(ada?.inputCostPerToken, 1e-7);
    assert.equal(ada?.inputCostPerTokenBatches, undefined);
    assert.equal(ada?.outputCostPerTokenBatches, undefined);
  });

  it('OpenAI chat: gpt-4o-mini with the batch API prices; gpt-4o-2024-05-13 without response_schema', () => {
    assert.deepEqual(entry('gpt-4o-mini'), {
      name: 'gpt-4o-mini',
      provider: 'openai',
      mode: 'chat',
      maxInputTokens: 128_000,
      maxOutputTokens: 16_384,
      inputCostPerToken: 1.5e-7,
      outputCostPerToken: 6e-7,
      inputCostPerTokenBatches: 7.5e-8,
      outputCostPerTokenBatches: 3e-7,
      supports: ['function_calling', 'pdf_input', 'prompt_caching', 'response_schema', 'vision'],
    });
    assert.deepEqual(entry('gpt-4o-2024-05-13')?.supports, ['function_calling', 'pdf_input', 'prompt_caching', 'vision']);
    assert.deepEqual(entry('gpt-3.5-turbo-16k')?.supports, ['prompt_caching']);
  });

  it('GPT-5: gpt-5-mini, 272,000 input tokens, no batch prices', () => {
    assert.deepEqual(entry('gpt-5-mini'), {
      name: 'gpt-5-mini',
      provider: 'openai',
      mode: 'chat',
      maxInputTokens: 272_000,
      maxOutputTokens: 128_000,
      inputCostPerToken: 2.5e-7,
      outputCostPerToken: 2e-6,
      supports: ['function_calling', 'pdf_input', 'prompt_caching', 'reasoning', 'response_schema', 'vision'],
    });
  });

  it('completion: gpt-3.5-turbo-instruct is text-completion-openai', () => {
    assert.deepEqual(entry('gpt-3.5-turbo-instruct'), {
      name: 'gpt-3.5-turbo-instruct',
      provider: 'text-completion-openai',
      mode: 'completion',
      maxInputTokens: 8_192,
      maxOutputTokens: 4_096,
      inputCostPerToken: 1.5e-6,
      outputCostPerToken: 2e-6,
    });
  });

  it('knows no name the file no longer has (retired models)', () => {
    for (const name of ['claude-3-5-sonnet-20241022', 'claude-3-5-haiku-20241022', 'claude-3-sonnet-20240229', 'claude-3-opus-latest', 'o1-mini', 'o1-preview', 'gpt-4-32k']) {
      assert.equal(catalogueModel(name), undefined, name);
    }
  });
});

describe('the Gemini entries match Google\'s pricing page (docs/specs/gemini-api.md)', () => {
  it('gemini-2.5-flash: $0.30 / $2.50 per 1M tokens, batch $0.15 / $1.25, served by gemini/', () => {
    const model = catalogueModel('gemini-2.5-flash');
    assert.equal(model?.provider, 'gemini');
    assert.equal(model?.inputCostPerToken, 0.3 / 1e6);
    assert.equal(model?.outputCostPerToken, 2.5 / 1e6);
    assert.equal(model?.inputCostPerTokenBatches, 0.15 / 1e6);
    assert.equal(model?.outputCostPerTokenBatches, 1.25 / 1e6);
  });

  it('gemini-2.5-pro (up to 200k prompt tokens) and gemini-embedding-001', () => {
    assert.deepEqual(
      [catalogueModel('gemini-2.5-pro')?.inputCostPerToken, catalogueModel('gemini-2.5-pro')?.outputCostPerToken, catalogueModel('gemini-2.5-pro')?.outputCostPerTokenBatches],
      [1.25 / 1e6, 10 / 1e6, 5 / 1e6],
    );
    assert.equal(catalogueModel('gemini-embedding-001')?.mode, 'embedding');
    assert.equal(catalogueModel('gemini-embedding-001')?.inputCostPerTokenBatches, 0.075 / 1e6);
  });
});
