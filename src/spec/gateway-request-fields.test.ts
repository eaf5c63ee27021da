import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endUserOf } from './gateway-request-fields.ts';

describe("a request's end user, in LiteLLM's documented order", () => {
  it('x-litellm-customer-id, x-litellm-end-user-id, the configured header, user, litellm_metadata.user, metadata.user_id, safety_identifier', () => {
    const body = { user: 'from-user', litellm_metadata: { user: 'from-litellm-metadata' }, metadata: { user_id: 'from-metadata' }, safety_identifier: 'from-safety' };
    const all = { 'x-litellm-customer-id': 'customer', 'x-litellm-end-user-id': 'end-user', 'x-openwebui-user-email': 'ada@example.com' };
    assert.equal(endUserOf(all, body, 'x-openwebui-user-email'), 'customer');
    assert.equal(endUserOf({ ...all, 'x-litellm-customer-id': undefined }, body, 'x-openwebui-user-email'), 'end-user');
    assert.equal(endUserOf({ 'x-openwebui-user-email': ' ada@example.com ' }, body, 'x-openwebui-user-email'), 'ada@example.com');
    assert.equal(endUserOf({ 'x-openwebui-user-email': 'ada@example.com' }, body, undefined), 'from-user', 'an unconfigured header is not read');
    assert.equal(endUserOf({}, { ...body, user: '' }, undefined), 'from-litellm-metadata');
    assert.equal(endUserOf({}, { metadata: { user_id: 'from-metadata' }, safety_identifier: 'from-safety' }, undefined), 'from-metadata');
    assert.equal(endUserOf({}, { safety_identifier: 'from-safety' }, undefined), 'from-safety');
    assert.equal(endUserOf({}, { metadata: { user_id: 42 } }, undefined), undefined);
    assert.equal(endUserOf({}, { user: 'x'.repeat(300) }, undefined)?.length, 256);
  });
});
