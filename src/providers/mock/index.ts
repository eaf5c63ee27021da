/** The built-in `mock/` provider: answers without a network or a key (the example config uses it). */
import type { Provider } from '../../spec/provider.ts';
import { createMockClient, type MockSettings, mockSettingsSchema } from './mock-client.ts';

export const mockProvider: Provider<MockSettings> = Object.freeze({
  names: Object.freeze(['mock']),
  defaultBatchMode: 'emulate',
  settings: { schema: mockSettingsSchema },
  validate(deployment) {
    return deployment.batchMode === 'native' ? ['batch_mode: mock has no batch API; use batch_mode: emulate'] : [];
  },
  createClient: createMockClient,
} satisfies Provider<MockSettings>);
