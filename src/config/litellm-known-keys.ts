/**
 * Settings LiteLLM's proxy documents that Portico does not implement, by section
 * (https://docs.litellm.ai/docs/proxy/config_settings). A file with one of them is warned about
 * as such ("a LiteLLM setting Portico does not implement"), not as an unknown key, which
 * suggests a typo. Keys Portico reads are never looked up here (`unknown-keys.ts` asks the
 * schema first), so a key implemented later needs no change here.
 */
export const LITELLM_KEYS_NOT_IMPLEMENTED: Readonly<Partial<Record<string, ReadonlySet<string>>>> = {
  top: new Set(['files_settings', 'callback_settings', 'guardrails', 'mcp_servers', 'search_tools', 'vector_store_registry', 'include', 'finetune_settings', 'assistant_settings']),
  general_settings: new Set([
    'allow_user_auth', 'allowed_routes',
    'completion_model', 'custom_auth', 'custom_key_generate', 'disable_adding_master_key_hash_to_db',
    'disable_database', 'disable_error_logs', 'disable_master_key_return', 'disable_reset_budget', 'disable_retry_on_max_parallel_request_limit_error',
    'enable_jwt_auth', 'enforce_user_param', 'health_check_details',
    'infer_model_from_keys', 'key_management_system', 'litellm_jwtauth', 'max_parallel_requests', 'otel', 'pass_through_endpoints',
    'proxy_batch_write_at', 'proxy_budget_rescheduler_max_time', 'proxy_budget_rescheduler_min_time', 'public_routes', 'set_verbose',
    'store_prompts_in_spend_logs', 'ui_access_mode', 'use_client_credentials_pass_through_routes',
  ]),
  router_settings: new Set([
    'cache_kwargs', 'cache_responses', 
    'optional_pre_call_checks', 'polling_interval', 'provider_budget_config', 'redis_db',
    'routing_strategy_args',
  ]),
  litellm_settings: new Set([
    'default_end_user_params', 'default_internal_user_params', 'default_key_generate_params', 'default_team_settings',
    'disable_end_user_cost_tracking', 'enable_json_schema_validation', 'enable_preview_features', 'internal_user_budget_duration',
    'key_generation_settings', 'langfuse_default_tags', 'max_internal_user_budget', 'max_parallel_requests',
    'public_model_groups', 'return_response_headers', 'service_callback', 'timezone',
    'upperbound_key_generate_params',
  ]),
  litellm_params: new Set([
    'budget_duration', 'configurable_clientside_auth_params', 'input_cost_per_second', 'litellm_trace_id', 'max_budget', 'merge_reasoning_content_in_choices',
    'output_cost_per_second', 'region_name', 'use_in_pass_through',
  ]),
};
