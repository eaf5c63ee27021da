/**
 * Places copies of a gateway-held batch file on deployments whose provider keeps files
 * (OpenAI, Azure). Each copy is the gateway's bytes with every line's `body.model` rewritten from
 * the model group to what that deployment expects. The rewritten copy is staged in the blob store
 * first (one pass of JSON work, flat memory), because providers need its exact size before the
 * upload starts and a retried upload must resend the same bytes; the stage is removed after.
 */
import type { Readable } from 'node:stream';
import type { Router } from '../../routing/router.ts';
import type { CallOptions, Deployment, ProviderClient, ProviderFile } from '../../spec/provider.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { rewrittenStream, withBodyModel } from '../jsonl/batch-line-rewriter.ts';

export interface PlacedCopy {
  deployment: Deployment;
  providerFile: ProviderFile;
}

export interface CopySource {
  blobKey: string;
  filename: string;
}

/**
 * Whether a deployment keeps copies of batch input files: it runs batches natively through a
 * file-based batch API. The one test for both placing copies and choosing the native executor.
 */
export function holdsFiles(deployment: Deployment, client: ProviderClient): boolean {
  return deployment.batchMode === 'native' && client.files !== undefined && client.batches?.kind === 'file';
}

/**
 * Uploads one rewritten copy to `deployment`, with the router's retries on that deployment
 * (each attempt re-reads the blob, so a retried upload starts from the first byte).
 */
export async function uploadCopy(
  router: Router,
  blobs: BlobStore,
  source: CopySource,
  deployment: Deployment,
  options: CallOptions = {},
): Promise<PlacedCopy> {
  const client = router.clientFor(deployment.id);
  const staged = await blobs.put(rewrittenStream(await blobs.get(source.blobKey), withBodyModel(client.batchLineModel)));
  try {
    const providerFile = await router.sendTo(
      deployment.id,
      async (attemptClient, call) => {
        const content: Readable = await blobs.get(staged.key);
        try {
          return await attemptClient.files!.upload({ content, filename: source.filename, purpose: 'batch', bytes: staged.bytes }, call);
        } finally {
          content.destroy();
        }
      },
      { signal: options.signal, requestId: options.requestId },
    );
    return { deployment, providerFile };
  } finally {
    await blobs.delete(staged.key);
  }
}

/** Best effort: removes copies that must not stay (a failed multi-deployment upload). */
export async function removeCopies(router: Router, copies: readonly PlacedCopy[]): Promise<PlacedCopy[]> {
  const results = await Promise.allSettled(
    copies.map((copy) => router.sendTo(copy.deployment.id, (client, call) => client.files!.delete(copy.providerFile.id, call))),
  );
  return copies.filter((_, index) => results[index].status === 'rejected');
}
