import { Type, type Static } from "@sinclair/typebox";
import { DurationSchema } from "@weft/core";

/**
 * SASL settings. The username and password may be `${VAR}` references to
 * environment variables, so no secret has to be written in a config file.
 */
export const KafkaSaslSchema = Type.Object(
  {
    mechanism: Type.Union(
      [
        Type.Literal("plain"),
        Type.Literal("scram-sha-256"),
        Type.Literal("scram-sha-512"),
      ],
      {
        description: "SASL mechanism: plain, scram-sha-256 or scram-sha-512",
      },
    ),
    username: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/**
 * TLS settings. Each PEM item is given either inline (`ca`, `cert`, `key`,
 * for example from `${VAR}`) or as a file path (`caFile`, `certFile`,
 * `keyFile`). Without `ca` or `caFile`, Node's bundled root certificates are
 * trusted.
 */
export const KafkaTlsSchema = Type.Object(
  {
    ca: Type.Optional(
      Type.String({
        minLength: 1,
        description: "PEM certificates of the CAs to trust",
      }),
    ),
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: "path of a PEM file with the CAs to trust",
      }),
    ),
    cert: Type.Optional(
      Type.String({
        minLength: 1,
        description: "PEM client certificate, for mutual TLS",
      }),
    ),
    certFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: "path of the PEM client certificate",
      }),
    ),
    key: Type.Optional(
      Type.String({
        minLength: 1,
        description: "PEM private key of the client certificate",
      }),
    ),
    keyFile: Type.Optional(
      Type.String({ minLength: 1, description: "path of the PEM private key" }),
    ),
    passphrase: Type.Optional(
      Type.String({ description: "passphrase of an encrypted private key" }),
    ),
    servername: Type.Optional(
      Type.String({
        minLength: 1,
        description: "host name sent in SNI and checked in the certificate",
      }),
    ),
    rejectUnauthorized: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          "whether to reject brokers whose certificate does not verify",
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Connection settings shared by every weft plugin that talks to Kafka.
 * Durations are milliseconds or strings such as `"500ms"` or `"30s"`.
 */
export const KafkaConnectionSchema = Type.Object(
  {
    brokers: Type.Union(
      [
        Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        Type.String({ minLength: 1 }),
      ],
      {
        description:
          "bootstrap brokers as host:port, a list or a comma-separated string",
      },
    ),
    clientId: Type.String({ minLength: 1, default: "weft" }),
    ssl: Type.Optional(
      Type.Union([Type.Boolean(), KafkaTlsSchema], {
        description: "true for TLS with default settings, or TLS settings",
      }),
    ),
    sasl: Type.Optional(KafkaSaslSchema),
    connectionTimeout: DurationSchema("3s"),
    requestTimeout: DurationSchema("30s"),
    startupTimeout: DurationSchema("30s"),
  },
  { additionalProperties: false },
);

/** Connection settings as written in a config file; see {@link KafkaConnectionSchema}. */
export type KafkaConnectionConfig = Static<typeof KafkaConnectionSchema>;
export type KafkaSaslConfig = Static<typeof KafkaSaslSchema>;
export type KafkaTlsConfig = Static<typeof KafkaTlsSchema>;
