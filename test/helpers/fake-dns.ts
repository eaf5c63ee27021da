/**
 * Answers this test process's name lookups for one host name (`dns.lookup`, which `net.connect`
 * and so undici use), every other name going to the system as before: a test reaches a server of
 * its own under a real-looking name (an Azure resource's, a dual-stack host's) without any change
 * to system files. Honours the lookup's `family` and `all` options as the real one does.
 *
 *   const restore = answerLookups('contoso.services.ai.azure.com', [{ address: '127.0.0.1', family: 4 }]);
 *   ...
 *   restore();
 */
import dns, { type LookupAddress } from 'node:dns';

type Lookup = (...args: unknown[]) => void;

export function answerLookups(hostname: string, addresses: readonly LookupAddress[]): () => void {
  const original = dns.lookup;
  (dns as { lookup: unknown }).lookup = (name: string, options: unknown, callback: unknown) => {
    if (name !== hostname) return (original as Lookup)(name, options, callback);
    const done = (typeof options === 'function' ? options : callback) as (error: Error | null, address: string | LookupAddress[], family?: number) => void;
    const { family = 0, all = false } = (typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {}) as { family?: number | string; all?: boolean };
    const wanted = Number(String(family).replace('IPv', ''));
    const matching = addresses.filter((entry) => wanted === 0 || entry.family === wanted);
    process.nextTick(() => (all ? done(null, matching) : done(null, matching[0].address, matching[0].family)));
  };
  return () => {
    (dns as { lookup: unknown }).lookup = original;
  };
}
