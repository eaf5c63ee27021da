/**
 * LiteLLM's `general_settings.allowed_ips`: only these clients may use the gateway; any other
 * gets a 403 before its key is even read. Entries are addresses (`10.0.0.7`, `::1`) or, beyond
 * LiteLLM, subnets in CIDR form (`10.0.0.0/8`). The client is the connection's peer, or with
 * `use_x_forwarded_for` (LiteLLM's setting, for a gateway behind a proxy that sets the header) the
 * first address of `X-Forwarded-For`. The liveness and readiness probes are not checked: an
 * orchestrator probes from addresses of its own.
 */
import { BlockList, isIP } from 'node:net';
import { PermissionDeniedError } from '../spec/errors.ts';

export interface IpAllowlist {
  /** The 403 for a client not on the list; undefined when it is. */
  check(peerAddress: string | undefined, forwardedFor: string | string[] | undefined): PermissionDeniedError | undefined;
}

/** Parses the entries; throws a message naming the first one that is not an address or a subnet. */
export function ipAllowlist(entries: readonly string[], options: { useForwardedFor: boolean }): IpAllowlist {
  const allowed = new BlockList();
  for (const entry of entries) {
    const [address, prefix, extra] = entry.trim().split('/');
    const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
    const bits = prefix === undefined ? undefined : Number(prefix);
    if (family === undefined || extra !== undefined || (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv4' ? 32 : 128)))) {
      throw new Error(`"${entry}" is not an IP address or a subnet (10.0.0.0/8)`);
    }
    if (bits === undefined) allowed.addAddress(address, family);
    else allowed.addSubnet(address, bits, family);
  }
  const permits = (address: string | undefined): boolean => {
    if (address === undefined) return false;
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(plain);
    return family !== 0 && allowed.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
  return {
    check(peerAddress, forwardedFor) {
      const header = Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor;
      const client = options.useForwardedFor && header !== undefined ? header.split(',')[0].trim() : peerAddress;
      if (permits(client)) return undefined;
      return new PermissionDeniedError('Access forbidden: this IP address is not allowed (general_settings.allowed_ips).', { code: 'ip_not_allowed' });
    },
  };
}
