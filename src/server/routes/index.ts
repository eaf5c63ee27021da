/**
 * The route table: one module per route family, registered in this order by `buildApp`.
 * A new family (managed files, batches) is one module added to this list.
 */
import type { RouteModule } from '../services.ts';
import { healthRoutes } from './health.ts';
import { inferenceRoutes } from './inference.ts';
import { responseRoutes } from './responses.ts';
import { audioRoutes } from './audio.ts';
import { anthropicMessagesRoutes } from './anthropic-messages.ts';
import { batchRoutes } from './batches.ts';
import { fileRoutes } from './files.ts';
import { uploadRoutes } from './uploads.ts';
import { keyRoutes } from './keys.ts';
import { teamRoutes } from './teams.ts';
import { userRoutes } from './users.ts';
import { customerRoutes } from './customers.ts';
import { modelManagementRoutes } from './model-management.ts';
import { metricsRoutes } from './metrics.ts';
import { modelRoutes } from './models.ts';
import { webhookRoutes } from './webhooks.ts';
import { spendRoutes } from './spend.ts';
import { consoleRoutes } from './console.ts';
import { deploymentRoutes } from './deployments.ts';

export const ROUTE_MODULES: readonly RouteModule[] = [healthRoutes, metricsRoutes, modelRoutes, inferenceRoutes, responseRoutes, audioRoutes, anthropicMessagesRoutes, keyRoutes, teamRoutes, userRoutes, customerRoutes, modelManagementRoutes, fileRoutes, uploadRoutes, batchRoutes, webhookRoutes, spendRoutes, deploymentRoutes, consoleRoutes];
