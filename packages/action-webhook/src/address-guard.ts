import ipaddr from "ipaddr.js";
import { WebhookErrorCode, webhookError } from "./errors.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Ranges that `allowPrivateNetworks` opens, as ipaddr.js 2.x names them.
 * Link-local (169.254.0.0/16, fe80::/10, where cloud metadata services
 * listen), unspecified, multicast, broadcast and reserved ranges stay
 * blocked; list them in `allowedNetworks` to open one.
 */
export const privateRanges: ReadonlySet<string> = new Set([
  "loopback",
  "private",
  "uniqueLocal",
  "carrierGradeNat",
]);

/** Settings of the outbound address guard. */
export interface AddressGuardOptions {
  allowPrivateNetworks: boolean;
  /** CIDRs or single addresses that are always allowed. */
  allowedNetworks: readonly string[];
}

/** The guard's decision on one address. */
export interface AddressVerdict {
  allowed: boolean;
  /** The ipaddr.js range name, such as `unicast`, `loopback` or `linkLocal`. */
  range: string;
}

/**
 * Decides which IP addresses a webhook may connect to. By default only global
 * unicast addresses pass. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is
 * judged as the IPv4 address it carries.
 */
export class AddressGuard {
  readonly #allowPrivate: boolean;
  readonly #allowed: Array<[Address, number]>;

  constructor(options: AddressGuardOptions) {
    this.#allowPrivate = options.allowPrivateNetworks;
    this.#allowed = options.allowedNetworks.map((network, i) =>
      parseNetwork(network, `allowedNetworks[${i}]`),
    );
  }

  /** Checks one address in text form; text that is no IP address is never allowed. */
  check(text: string): AddressVerdict {
    if (!ipaddr.isValid(text)) return { allowed: false, range: "invalid" };

    const address = normalize(ipaddr.parse(text));
    const range = address.range();
    if (
      this.#allowed.some(
        ([network, bits]) =>
          address.kind() === network.kind() && address.match(network, bits),
      )
    )
      return { allowed: true, range };
    if (range === "unicast") return { allowed: true, range };
    if (this.#allowPrivate && privateRanges.has(range))
      return { allowed: true, range };
    return { allowed: false, range };
  }
}

function normalize(address: Address): Address {
  if (
    address.kind() === "ipv6" &&
    (address as ipaddr.IPv6).isIPv4MappedAddress()
  )
    return (address as ipaddr.IPv6).toIPv4Address();
  return address;
}

function parseNetwork(text: string, path: string): [Address, number] {
  try {
    if (!text.includes("/")) {
      const address = normalize(ipaddr.parse(text));
      return [address, address.kind() === "ipv4" ? 32 : 128];
    }
    const [address, bits] = ipaddr.parseCIDR(text);
    // ::ffff:10.0.0.0/104 names the same addresses as 10.0.0.0/8, and addresses are compared in IPv4 form.
    if (
      address.kind() === "ipv6" &&
      (address as ipaddr.IPv6).isIPv4MappedAddress() &&
      bits >= 96
    )
      return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
    return [address, bits];
  } catch (error) {
    throw webhookError(
      WebhookErrorCode.CONFIG_INVALID,
      `${path}: ${JSON.stringify(text)} is not an IP address or CIDR; write it as 10.0.0.0/8, 127.0.0.1 or fd00::/8`,
      {
        cause: error,
        details: { path, value: text },
      },
    );
  }
}
