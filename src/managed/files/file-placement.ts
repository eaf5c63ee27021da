/**
 * Places copies of a gateway-held batch file on deployments whose provider keeps files
 * (OpenAI, Azure, ...). Each copy is the gateway's bytes with every line's `body.model` rewritten
 * from the model group to what that deployment expects, in its provider's line format where that
 * is not OpenAI's (Mistral's). The rewritten copy is staged in the blob store
 * first (one pass of JSON work, flat memory), because providers need its exact size before the
 * upload starts and a retried upload must resend the same bytes; the stage is removed after.
 */
import type { Readable } from 'node:stream';
import type { Router } from '../../routing/router.ts';
import type { CallOptions, Deployment, ProviderClient, ProviderFile } from '../../spec/provider.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { type LineRewrite, rewrittenStream, withBodyModel } from '../jsonl/batch-line-rewriter.ts';

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

/** A line as the deployment's copy holds it: its model, in its provider's line format. */
function placedLine(client: ProviderClient): LineRewrite {
  const withModel = withBodyModel(client.batchLineModel);
  const batches = client.batches?.kind === 'file' ? client.batches : undefined;
  const inProviderFormat = batches?.inputLine?.bind(batches);
  return inProviderFormat ? (line) => inProviderFormat(withModel(line)) : withModel;
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
  const staged = await blobs.put(rewrittenStream(await blobs.get(source.blobKey), placedLine(client)));
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

/**
 * The name a copy is uploaded under: the file's name behind the copy's own id. A copy whose
 * upload answered but whose provider id was never recorded (the instance died in between) is
 * found again by it (`findPlacedCopy`); the extension stays last, as providers want.
 */
export function copyFilename(copyId: string, filename: string): string {
  return `${copyId}-${filename}`;
}

/** Pages of the provider's file list looked through for a lost copy, newest first. */
const FIND_PAGES = 5;

/** How far the provider's clock may be behind ours when a copy's age is compared. */
const CLOCK_SKEW_SECONDS = 300;

/**
 * The provider file of copy `copy.id` on its deployment, found by its name among the provider's
 * batch files created since the copy's row (newest first); null when there is none. Throws when
 * the provider cannot be asked (the caller keeps the copy to look again later).
 */
export async function findPlacedCopy(
  router: Router,
  copy: { id: string; deploymentId: string; createdAt: number },
  options: CallOptions = {},
): Promise<ProviderFile | null> {
  const prefix = copyFilename(copy.id, '');
  return router.sendTo(
    copy.deploymentId,
    async (client, call) => {
      if (!client.files) return null;
      let after: string | undefined;
      for (let page = 0; page < FIND_PAGES; page += 1) {
        const listed = await client.files.list({ purpose: 'batch', after, limit: 100 }, call);
        const match = listed.files.find((file) => file.filename.startsWith(prefix));
        if (match) return match;
        const oldest = listed.files.at(-1);
        // Newest first: past files older than the copy's row, the copy cannot come any more.
        if (!listed.hasMore || !oldest || oldest.createdAt < copy.createdAt - CLOCK_SKEW_SECONDS) return null;
        after = oldest.id;
      }
      return null;
    },
    options,
  );
}

/** Best effort: removes copies that must not stay (a failed multi-deployment upload). */
export async function removeCopies(router: Router, copies: readonly PlacedCopy[]): Promise<PlacedCopy[]> {
  const results = await Promise.allSettled(
    copies.map((copy) => router.sendTo(copy.deployment.id, (client, call) => client.files!.delete(copy.providerFile.id, call))),
  );
  return copies.filter((_, index) => results[index].status === 'rejected');
}
