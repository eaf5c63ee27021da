/**
 * The window every file stream moves bytes in (issue 15, "bounded by design"): the upload
 * (client -> multipart parser -> batch input check -> blob store), the copies placed on
 * deployments (blob -> line rewrite -> staged blob -> provider upload), the downloads (blob or
 * provider -> client) and the result files a finished batch writes (result lines -> blob).
 *
 * Each stage of those pipelines is a Node stream with `highWaterMark: STREAM_WINDOW_BYTES`: it
 * stops asking for more once it holds that many bytes unread, and a producer only adds a chunk
 * while its reader is under its mark, so a stage holds at most its mark plus the one chunk that
 * crossed it. With chunks of at most `STREAM_CHUNK_BYTES` (what a socket or file read hands out)
 * a stage thus holds at most two chunks (the transform stages: two on their writable side, two
 * on their readable side), whatever the throughput: bytes come in only as fast as the slowest
 * stage lets them out. Where a store works in larger units (the database store's chunk rows, an
 * object store's parts) its own bound is stated in its module, in those units.
 *
 * Same value as Node 24's default highWaterMark: written down here so that a stage added later,
 * or a change of Node's default, cannot silently widen a window, and so that the bound
 * documented in bench/README.md is computed from one place.
 */

/** Largest chunk a file stream reads at once (a file read; a socket read is at most this too). */
export const STREAM_CHUNK_BYTES = 64 * 1024;

/** highWaterMark of every stage of a file stream: one chunk unread, then it stops pulling. */
export const STREAM_WINDOW_BYTES = STREAM_CHUNK_BYTES;
