/**
 * "Retry the failed lines": the input lines whose `custom_id` is in the batch's error file,
 * unchanged, for a new batch.
 */

/** The `custom_id`s of the error file's lines. */
export async function failedCustomIds(errorRecords) {
  const ids = new Set();
  for await (const line of errorRecords) if (typeof line.custom_id === 'string') ids.add(line.custom_id);
  return ids;
}

/** The input lines (text, as uploaded) whose `custom_id` is in `ids`. */
export async function linesToRetry(inputLines, ids) {
  const kept = [];
  for await (const text of inputLines) {
    let customId;
    try {
      customId = JSON.parse(text).custom_id;
    } catch {
      continue;
    }
    if (ids.has(customId)) kept.push(text);
  }
  return kept;
}
