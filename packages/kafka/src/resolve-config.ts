import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Value } from "@sinclair/typebox/value";
import { parseDuration } from "@weft/core";
import {
  KafkaConnectionSchema,
  type KafkaConnectionConfig,
  type KafkaSaslConfig,
  type KafkaTlsConfig,
} from "./config.js";
import { KafkaErrorCode, kafkaError } from "./errors.js";

/** Connection settings as a caller may pass them: the fields with defaults are optional. */
export type KafkaConnectionInput = Omit<
  KafkaConnectionConfig,
  "clientId" | "connectionTimeout" | "requestTimeout" | "startupTimeout"
> &
  Partial<
    Pick<
      KafkaConnectionConfig,
      "clientId" | "connectionTimeout" | "requestTimeout" | "startupTimeout"
    >
  >;

/** Checked connection settings with files read and durations in milliseconds. */
export interface ResolvedKafkaConnection {
  brokers: string[];
  clientId: string;
  /** Node TLS options with PEM contents loaded, or undefined for a plaintext connection. */
  tls?: ConnectionOptions;
  sasl?: KafkaSaslConfig;
  /** Time allowed to open a TCP (and TLS) connection to one broker. */
  connectionTimeoutMs: number;
  /** Time allowed for one request to a broker. */
  requestTimeoutMs: number;
  /** Total time that connecting at start-up keeps retrying an unreachable broker. */
  startupTimeoutMs: number;
}

/** Options of {@link resolveConnectionConfig}. */
export interface ResolveConnectionOptions {
  /**
   * Environment for `${VAR}`, `${VAR:-default}` and `$$` in string settings.
   * Leave it out for config that the weft host loaded, because the host has
   * already replaced those references, and replacing twice would misread a
   * secret that itself contains `${`.
   */
  env?: NodeJS.ProcessEnv;
  /** Config path of the connection settings, used in error messages. Default `connection`. */
  path?: string;
}

/** Settings whose values are never echoed in errors or logs. */
const secretFields = new Set(["password", "key", "passphrase"]);
const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function joinPath(base: string, key: string | number): string {
  return typeof key === "number" ? `${base}[${key}]` : `${base}.${key}`;
}

function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string,
  missing: string[],
): unknown {
  if (typeof value === "string") {
    return value.replace(
      reference,
      (match, name: string | undefined, fallback: string | undefined) => {
        if (match === "$$") return "$";
        const found = env[name as string];
        if (found !== undefined && found !== "") return found;
        if (fallback !== undefined) return fallback;
        missing.push(`${path} references \${${name}}, which is not set`);
        return match;
      },
    );
  }
  if (Array.isArray(value))
    return value.map((item, index) =>
      interpolate(item, env, joinPath(path, index), missing),
    );
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        interpolate(item, env, joinPath(path, key), missing),
      ]),
    );
  }
  return value;
}

function checkSchema(input: unknown, path: string): KafkaConnectionConfig {
  const value = Value.Default(
    KafkaConnectionSchema,
    structuredClone(input ?? {}),
  );
  if (Value.Check(KafkaConnectionSchema, value)) return value;

  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(KafkaConnectionSchema, value)) {
    const fieldPath =
      path + error.path.replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".");
    // A union reports its own error and one per member; the first is enough.
    if (seen.has(fieldPath)) continue;
    seen.add(fieldPath);
    const field = error.path.split("/").pop() ?? "";
    const displayedValue = secretFields.has(field)
      ? "[redacted]"
      : JSON.stringify(error.value);
    problems.push(`${fieldPath}: ${error.message}, got ${displayedValue}`);
  }
  throw kafkaError(
    KafkaErrorCode.CONFIG_INVALID,
    `invalid Kafka connection settings: ${problems.join("; ")}`,
    {
      details: { path, problems },
    },
  );
}

const brokerPattern = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

function parseBrokers(brokers: string[] | string, path: string): string[] {
  const list = (typeof brokers === "string" ? brokers.split(",") : brokers)
    .map((broker) => broker.trim())
    .filter((broker) => broker !== "");
  if (list.length === 0) {
    throw kafkaError(
      KafkaErrorCode.CONFIG_INVALID,
      `${path}.brokers is empty; list at least one broker as host:port`,
      {
        details: { path: `${path}.brokers` },
      },
    );
  }
  for (const broker of list) {
    const match = brokerPattern.exec(broker);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      throw kafkaError(
        KafkaErrorCode.CONFIG_INVALID,
        `${path}.brokers: invalid broker address ${JSON.stringify(broker)}; write host:port, for example kafka-1:9092`,
        { details: { path: `${path}.brokers`, value: broker } },
      );
    }
  }
  return list;
}

function readPem(
  inline: string | undefined,
  file: string | undefined,
  field: string,
  path: string,
): string | undefined {
  if (inline !== undefined && file !== undefined) {
    throw kafkaError(
      KafkaErrorCode.TLS_INVALID,
      `${path}.ssl sets both ${field} and ${field}File; keep one of them`,
      {
        details: { path: `${path}.ssl.${field}` },
      },
    );
  }
  if (file === undefined) return inline;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw kafkaError(
      KafkaErrorCode.TLS_INVALID,
      `${path}.ssl.${field}File: cannot read ${file} (${(error as Error).message}); check the path and its permissions`,
      { cause: error, details: { path: `${path}.ssl.${field}File`, file } },
    );
  }
}

const certificateBlock =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseCertificates(
  pem: string,
  field: string,
  path: string,
): X509Certificate[] {
  const blocks = pem.match(certificateBlock) ?? [];
  if (blocks.length === 0) {
    throw kafkaError(
      KafkaErrorCode.TLS_INVALID,
      `${path}.ssl.${field} contains no PEM certificate (expected a "-----BEGIN CERTIFICATE-----" block)`,
      { details: { path: `${path}.ssl.${field}` } },
    );
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw kafkaError(
        KafkaErrorCode.TLS_INVALID,
        `${path}.ssl.${field}: certificate ${index + 1} is not a valid X.509 certificate (${(error as Error).message})`,
        {
          cause: error,
          details: { path: `${path}.ssl.${field}`, certificate: index + 1 },
        },
      );
    }
  });
}

function parsePrivateKey(
  pem: string,
  passphrase: string | undefined,
  path: string,
): KeyObject {
  try {
    return createPrivateKey({ key: pem, passphrase });
  } catch (error) {
    throw kafkaError(
      KafkaErrorCode.TLS_INVALID,
      `${path}.ssl.key is not a valid PEM private key, or its passphrase is wrong (${(error as Error).message})`,
      { cause: error, details: { path: `${path}.ssl.key` } },
    );
  }
}

/** Loads and checks the TLS settings, so that a wrong file or PEM fails here rather than in a handshake. */
function resolveTls(
  ssl: boolean | KafkaTlsConfig | undefined,
  path: string,
): ConnectionOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  if (ssl === true) return {};

  const ca = readPem(ssl.ca, ssl.caFile, "ca", path);
  const cert = readPem(ssl.cert, ssl.certFile, "cert", path);
  const key = readPem(ssl.key, ssl.keyFile, "key", path);
  if ((cert === undefined) !== (key === undefined)) {
    throw kafkaError(
      KafkaErrorCode.TLS_INVALID,
      `${path}.ssl: a client certificate needs both cert (or certFile) and key (or keyFile); only ${cert ? "cert" : "key"} is set`,
      { details: { path: `${path}.ssl` } },
    );
  }

  if (ca !== undefined) parseCertificates(ca, "ca", path);
  if (cert !== undefined && key !== undefined) {
    const [leaf] = parseCertificates(cert, "cert", path);
    const privateKey = parsePrivateKey(key, ssl.passphrase, path);
    if (!leaf.checkPrivateKey(privateKey)) {
      throw kafkaError(
        KafkaErrorCode.TLS_INVALID,
        `${path}.ssl.key does not belong to the certificate in ${path}.ssl.cert (subject ${leaf.subject.replace(/\n/g, ", ")})`,
        { details: { path: `${path}.ssl.key` } },
      );
    }
  }

  const options: ConnectionOptions = {
    rejectUnauthorized: ssl.rejectUnauthorized ?? true,
  };
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (ssl.passphrase !== undefined) options.passphrase = ssl.passphrase;
  if (ssl.servername !== undefined) options.servername = ssl.servername;
  return options;
}

/**
 * Checks connection settings and turns them into what a client needs:
 * broker list, loaded TLS material and durations in milliseconds.
 * @throws WeftError `WEFT_ERR_KAFKA_ENV_MISSING`, `WEFT_ERR_KAFKA_CONFIG_INVALID`
 *   or `WEFT_ERR_KAFKA_TLS_INVALID`, naming the setting and never a secret.
 */
export function resolveConnectionConfig(
  input: KafkaConnectionInput | unknown,
  options: ResolveConnectionOptions = {},
): ResolvedKafkaConnection {
  const path = options.path ?? "connection";
  let raw = input;
  if (options.env) {
    const missing: string[] = [];
    raw = interpolate(input, options.env, path, missing);
    if (missing.length > 0) {
      throw kafkaError(
        KafkaErrorCode.ENV_MISSING,
        `${missing.join("; ")}; set the variable or write \${NAME:-default}`,
        { details: { path, problems: missing } },
      );
    }
  }

  const config = checkSchema(raw, path);
  const resolved: ResolvedKafkaConnection = {
    brokers: parseBrokers(config.brokers, path),
    clientId: config.clientId,
    connectionTimeoutMs: parseDuration(
      config.connectionTimeout,
      `${path}.connectionTimeout`,
    ),
    requestTimeoutMs: parseDuration(
      config.requestTimeout,
      `${path}.requestTimeout`,
    ),
    startupTimeoutMs: parseDuration(
      config.startupTimeout,
      `${path}.startupTimeout`,
    ),
  };
  const tls = resolveTls(config.ssl, path);
  if (tls) resolved.tls = tls;
  if (config.sasl) resolved.sasl = config.sasl;
  return resolved;
}

/** Describes a connection for logs: addresses and mechanisms, never a password or key. */
export function describeConnection(
  connection: ResolvedKafkaConnection,
): Record<string, unknown> {
  return {
    brokers: connection.brokers,
    clientId: connection.clientId,
    tls: connection.tls !== undefined,
    sasl: connection.sasl
      ? {
          mechanism: connection.sasl.mechanism,
          username: connection.sasl.username,
        }
      : undefined,
  };
}
