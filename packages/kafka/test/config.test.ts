import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { isWeftError } from "@weft/core";
import { tlsCa } from "@weft/testkit";
import { KafkaErrorCode, resolveConnectionConfig } from "@weft/kafka";

function captureError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (!isWeftError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error("expected an error");
}

t.test("brokers as list or comma-separated string", async (t) => {
  const fromList = resolveConnectionConfig({ brokers: ["a:9092", " b:9093 "] });
  t.same(fromList.brokers, ["a:9092", "b:9093"]);
  const fromString = resolveConnectionConfig({ brokers: "a:9092, b:9093,," });
  t.same(fromString.brokers, ["a:9092", "b:9093"]);
  const ipv6 = resolveConnectionConfig({ brokers: "[::1]:9092" });
  t.same(ipv6.brokers, ["[::1]:9092"]);
});

t.test("defaults and durations", async (t) => {
  const resolved = resolveConnectionConfig({
    brokers: "a:9092",
    connectionTimeout: "500ms",
    startupTimeout: "1m",
  });
  t.equal(resolved.clientId, "weft");
  t.equal(resolved.connectionTimeoutMs, 500);
  t.equal(resolved.requestTimeoutMs, 30_000);
  t.equal(resolved.startupTimeoutMs, 60_000);
  t.equal(resolved.tls, undefined);
  t.equal(resolved.sasl, undefined);
});

t.test("invalid broker address names the value", async (t) => {
  for (const broker of [
    "kafka",
    "kafka:0",
    "kafka:99999",
    "http://kafka:9092",
  ]) {
    const error = captureError(() =>
      resolveConnectionConfig({ brokers: [broker] }),
    );
    t.equal(error.code, KafkaErrorCode.CONFIG_INVALID, broker);
    t.match(error.message, JSON.stringify(broker), broker);
  }
  const empty = captureError(() => resolveConnectionConfig({ brokers: " , " }));
  t.equal(empty.code, KafkaErrorCode.CONFIG_INVALID);
  t.match(empty.message, /brokers is empty/);
});

t.test("schema errors name the path and hide secrets", async (t) => {
  const error = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9092",
      sasl: { mechanism: "gssapi", username: "u", password: "hunter2" },
    }),
  );
  t.equal(error.code, KafkaErrorCode.CONFIG_INVALID);
  t.match(error.message, "connection.sasl.mechanism");
  t.notMatch(error.message, "hunter2");

  const emptyPassword = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9092",
      sasl: { mechanism: "plain", username: "u", password: "" },
    }),
  );
  t.match(emptyPassword.message, "connection.sasl.password");

  const unknown = captureError(() =>
    resolveConnectionConfig(
      { brokers: "a:9092", retries: 3 },
      { path: "plugins.sink" },
    ),
  );
  t.match(unknown.message, "plugins.sink");
});

t.test("${VAR} references are read from env", async (t) => {
  const env = {
    KAFKA_USER: "alice",
    KAFKA_PASSWORD: "s3cret",
    KAFKA_BROKERS: "k1:9092,k2:9092",
  };
  const resolved = resolveConnectionConfig(
    {
      brokers: "${KAFKA_BROKERS}",
      clientId: "${CLIENT_ID:-weft-sink}",
      sasl: {
        mechanism: "scram-sha-256",
        username: "${KAFKA_USER}",
        password: "${KAFKA_PASSWORD}",
      },
    },
    { env },
  );
  t.same(resolved.brokers, ["k1:9092", "k2:9092"]);
  t.equal(resolved.clientId, "weft-sink");
  t.same(resolved.sasl, {
    mechanism: "scram-sha-256",
    username: "alice",
    password: "s3cret",
  });

  const literal = resolveConnectionConfig(
    {
      brokers: "a:9092",
      sasl: { mechanism: "plain", username: "u", password: "pa$${x}" },
    },
    { env: {} },
  );
  t.equal(literal.sasl?.password, "pa${x}");
});

t.test("missing ${VAR} names the variable and path", async (t) => {
  const error = captureError(() =>
    resolveConnectionConfig(
      {
        brokers: "a:9092",
        sasl: {
          mechanism: "plain",
          username: "u",
          password: "${KAFKA_PASSWORD}",
        },
      },
      { env: {} },
    ),
  );
  t.equal(error.code, KafkaErrorCode.ENV_MISSING);
  t.match(error.message, "connection.sasl.password");
  t.match(error.message, "${KAFKA_PASSWORD}");
});

t.test("without env, references stay as written", async (t) => {
  // The host interpolates config files itself; a second pass must not touch secrets.
  const resolved = resolveConnectionConfig({
    brokers: "a:9092",
    sasl: { mechanism: "plain", username: "u", password: "x${NOT_A_VAR}" },
  });
  t.equal(resolved.sasl?.password, "x${NOT_A_VAR}");
});

t.test("invalid TLS settings give clear errors", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-kafka-tls-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const missing = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9093",
      ssl: { caFile: join(dir, "missing.pem") },
    }),
  );
  t.equal(missing.code, KafkaErrorCode.TLS_INVALID);
  t.match(missing.message, "connection.ssl.caFile");
  t.match(missing.message, "missing.pem");

  const garbageFile = join(dir, "garbage.pem");
  writeFileSync(garbageFile, "not a certificate");
  const garbage = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9093",
      ssl: { caFile: garbageFile },
    }),
  );
  t.equal(garbage.code, KafkaErrorCode.TLS_INVALID);
  t.match(garbage.message, /no PEM certificate/);

  const broken = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9093",
      ssl: {
        ca: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
      },
    }),
  );
  t.equal(broken.code, KafkaErrorCode.TLS_INVALID);
  t.match(broken.message, /certificate 1 is not a valid X\.509 certificate/);

  const both = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9093",
      ssl: { ca: "x", caFile: "y" },
    }),
  );
  t.equal(both.code, KafkaErrorCode.TLS_INVALID);
  t.match(both.message, /both ca and caFile/);

  const ca = await tlsCa();
  const certOnly = captureError(() =>
    resolveConnectionConfig({ brokers: "a:9093", ssl: { cert: ca } }),
  );
  t.equal(certOnly.code, KafkaErrorCode.TLS_INVALID);
  t.match(certOnly.message, /needs both cert/);

  const badKey = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9093",
      ssl: {
        cert: ca,
        key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
      },
    }),
  );
  t.equal(badKey.code, KafkaErrorCode.TLS_INVALID);
  t.match(
    badKey.message,
    /connection\.ssl\.key is not a valid PEM private key/,
  );

  const otherKey = generateKeyPairSync("ec", {
    namedCurve: "P-256",
  }).privateKey.export({ type: "pkcs8", format: "pem" });
  const mismatch = captureError(() =>
    resolveConnectionConfig({
      brokers: "a:9093",
      ssl: { cert: ca, key: otherKey.toString() },
    }),
  );
  t.equal(mismatch.code, KafkaErrorCode.TLS_INVALID);
  t.match(mismatch.message, /does not belong to the certificate/);
});

t.test("valid TLS settings load the CA", async (t) => {
  const ca = await tlsCa();
  const resolved = resolveConnectionConfig({
    brokers: "a:9093",
    ssl: { ca, servername: "localhost" },
  });
  t.equal(resolved.tls?.ca, ca);
  t.equal(resolved.tls?.servername, "localhost");
  t.equal(resolved.tls?.rejectUnauthorized, true);
  t.same(resolveConnectionConfig({ brokers: "a:9093", ssl: true }).tls, {});
});
