/**
 * The account an Azure Blob Storage account URL names: `https://<account>.blob.core.windows.net`,
 * or, for an emulator or an endpoint written path-style, `http://127.0.0.1:10000/<account>`.
 * Apart from the store so that the config can check it without loading the Azure SDK.
 */
export function accountNameOf(accountUrl: string): string | undefined {
  const url = new URL(accountUrl);
  const fromHost = /^([a-z0-9]{3,24})\.blob\./.exec(url.hostname)?.[1];
  if (fromHost !== undefined) return fromHost;
  return url.pathname.split('/').find((segment) => segment !== '');
}
