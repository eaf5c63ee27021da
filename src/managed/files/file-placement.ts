/**
 * Places copies of a gateway-held batch file on deployments whose provider keeps files
 * (OpenAI, Azure). Each copy is the gateway's bytes with every line's `body.model` rewritten from
 * the model group to what that deployment expects, streamed from the blob store: the rewritten
 * size is measured in a first pass (providers need a Content-Length), then the bytes are sent.
 */
import type { Readable } from 'node:stream';
import type { Router } from '../../routing/router.ts';
import type { CallOptions, Deployment, ProviderFile } from '../../spec/provider.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { rewrittenSize, rewrittenStream, withBodyModel } from '../jsonl/batch-line-rewriter.ts';

export interface PlacedCopy {
  deployment: Deployment;
  providerFile: ProviderFile;
}

export interface CopySource {
  blobKey: string;
  filename: string;
}

/** Whether files placed on this deployment can be batched there natively. */
export function holdsFiles(router: Router, deployment: Deployment): boolean {
  const client = router.clientFor(deployment.id);
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
  const rewrite = withBodyModel(client.batchLineModel);
  const bytes = await rewrittenSize(await blobs.get(source.blobKey), rewrite);
  const providerFile = await router.sendTo(
    deployment.id,
    async (attemptClient, call) => {
      const content: Readable = rewrittenStream(await blobs.get(source.blobKey), rewrite);
      try {
        return await attemptClient.files!.upload({ content, filename: source.filename, purpose: 'batch', bytes }, call);
      } finally {
        content.destroy();
      }
    },
    { signal: options.signal, requestId: options.requestId },
  );
  return { deployment, providerFile };
}

/** Best effort: removes copies that must not stay (a failed multi-deployment upload). */
export async function removeCopies(router: Router, copies: readonly PlacedCopy[]): Promise<PlacedCopy[]> {
  const results = await Promise.allSettled(
    copies.map((copy) => router.sendTo(copy.deployment.id, (client, call) => client.files!.delete(copy.providerFile.id, call))),
  );
  return copies.filter((_, index) => results[index].status === 'rejected');
}
