import net from "node:net";
import { buildConnector } from "undici";
import type { ResolveHost, SocketConnector } from "./connector.js";

/**
 * Creates a connector that records the address of every connection attempt
 * and opens a real socket only to 127.0.0.1. Any other address fails before
 * a socket exists, so a test of the address guard sends no packet off the
 * machine even when the guard is broken.
 */
export function loopbackConnector(): SocketConnector & { attempts: string[] } {
  const attempts: string[] = [];
  const real = buildConnector({ timeout: 2000 });
  const connect: SocketConnector = (options, callback) => {
    attempts.push(options.hostname);
    if (options.hostname === "127.0.0.1") return real(options, callback);
    callback(
      new Error(
        `test connector: rejected a socket to ${options.hostname}, which is not 127.0.0.1`,
      ),
      null,
    );
  };
  return Object.assign(connect, { attempts });
}

/**
 * Creates a resolver that looks host names up in `table` and records each
 * question. It makes no DNS query, and a name missing from the table fails
 * with `ENOTFOUND` as `dns.lookup` does.
 */
export function fakeResolver(
  table: Record<string, string[]>,
): ResolveHost & { questions: string[] } {
  const questions: string[] = [];
  const resolve = async (hostname: string) => {
    questions.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: "ENOTFOUND",
      });
    return addresses.map((address) => ({
      address,
      family: net.isIPv6(address) ? 6 : 4,
    }));
  };
  return Object.assign(resolve, { questions });
}
