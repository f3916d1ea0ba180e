import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { buildConnector } from "undici";
import type { AddressGuard } from "./address-guard.js";
import { WebhookErrorCode, webhookError } from "./errors.js";

/** One resolved address, as `dns.lookup` with `all: true` returns it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has. Tests inject one so that no real DNS query is made. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

/** undici's connector signature: opens a socket for one origin. */
export type SocketConnector = buildConnector.connector;

/** Options of {@link createGuardedConnector}; `resolve` and `connect` default to the system resolver and undici's connector. */
export interface GuardedConnectorOptions {
  guard: AddressGuard;
  connectTimeoutMs: number;
  resolve?: ResolveHost;
  /**
   * Opens the socket to one already checked IP address. The guarded
   * connector passes that address as `hostname` and keeps `host` and
   * `servername`, so TLS still verifies the certificate of the original
   * host name.
   */
  connect?: SocketConnector;
}

/** The system resolver: every address, in the order the resolver returns them. */
export const systemResolve: ResolveHost = (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Builds an undici connector that resolves the host name itself, checks every
 * resolved address against the guard before any socket exists, and then
 * connects to a checked address by IP. The address that is checked is the
 * address that is connected, so a DNS answer that changes between check and
 * connect (DNS rebinding) cannot slip past. A host name with any blocked
 * address is rejected as a whole, because a resolver may return its addresses
 * in another order next time.
 */
export function createGuardedConnector(
  options: GuardedConnectorOptions,
): SocketConnector {
  const resolve = options.resolve ?? systemResolve;
  const connect =
    options.connect ?? buildConnector({ timeout: options.connectTimeoutMs });

  return (connectOptions, callback) => {
    checkedAddresses(connectOptions.hostname, resolve, options.guard).then(
      (addresses) => connectFirst(connect, connectOptions, addresses, callback),
      (error: Error) => callback(error, null),
    );
  };
}

async function checkedAddresses(
  hostname: string,
  resolve: ResolveHost,
  guard: AddressGuard,
): Promise<string[]> {
  const literal = isIP(hostname) !== 0;
  let addresses: string[];
  if (literal) {
    addresses = [hostname];
  } else {
    try {
      addresses = (await resolve(hostname)).map((entry) => entry.address);
    } catch (error) {
      throw webhookError(
        WebhookErrorCode.DNS_FAILED,
        `host ${hostname} did not resolve: ${(error as Error).message}`,
        {
          cause: error,
          retryable: true,
          details: { hostname },
        },
      );
    }
    if (addresses.length === 0) {
      throw webhookError(
        WebhookErrorCode.DNS_FAILED,
        `host ${hostname} resolved to no address`,
        { retryable: true, details: { hostname } },
      );
    }
  }

  const blocked = addresses
    .map((address) => ({ address, ...guard.check(address) }))
    .filter((verdict) => !verdict.allowed);
  if (blocked.length > 0) {
    const list = blocked
      .map((verdict) => `${verdict.address} (${verdict.range})`)
      .join(", ");
    const subject = literal
      ? `address ${list}`
      : `host ${hostname} resolves to ${list}, which`;
    throw webhookError(
      WebhookErrorCode.ADDRESS_BLOCKED,
      `${subject} is not a public address; add its network to allowedNetworks, or set allowPrivateNetworks, if this endpoint is trusted`,
      { details: { hostname, blocked } },
    );
  }
  return addresses;
}

/** Tries each checked address in turn until one connects. */
function connectFirst(
  connect: SocketConnector,
  connectOptions: buildConnector.Options,
  addresses: string[],
  callback: buildConnector.Callback,
  index = 0,
): void {
  connect(
    { ...connectOptions, hostname: addresses[index] },
    (error, socket) => {
      if (error && index + 1 < addresses.length)
        return connectFirst(
          connect,
          connectOptions,
          addresses,
          callback,
          index + 1,
        );
      if (error) return callback(error, null);
      callback(null, socket!);
    },
  );
}
