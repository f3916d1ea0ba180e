import t from "tap";
import {
  brokers,
  saslBrokers,
  saslCredentials,
  tlsBrokers,
  tlsCa,
} from "@weft/testkit";
import {
  createKafkaClient,
  KafkaErrorCode,
  type KafkaConnectionInput,
} from "@weft/kafka";
import { captureLogger, levels } from "./log-capture.js";

/** Connects an admin client with `connection` and returns the topic list, or throws what connect threw. */
async function connectAndList(
  connection: KafkaConnectionInput,
): Promise<string[]> {
  const { logger } = captureLogger();
  const admin = createKafkaClient(connection, { logger }).admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

for (const mechanism of ["scram-sha-256", "scram-sha-512", "plain"] as const) {
  t.test(`SASL ${mechanism} with right credentials connects`, async (t) => {
    const topics = await connectAndList({
      brokers: await saslBrokers(),
      sasl: { mechanism, ...saslCredentials },
    });
    t.ok(Array.isArray(topics));
  });
}

t.test("SASL SCRAM with wrong password fails fast", async (t) => {
  const { logger, lines } = captureLogger();
  const admin = createKafkaClient(
    {
      brokers: await saslBrokers(),
      sasl: {
        mechanism: "scram-sha-256",
        username: saslCredentials.username,
        password: "wrong-password",
      },
      startupTimeout: "30s",
    },
    { logger },
  ).admin();
  const startedAt = Date.now();
  const error = await admin.connect().then(
    () => undefined,
    (caught: unknown) =>
      caught as { code?: string; message: string; retryable?: boolean },
  );
  await admin.disconnect();

  t.equal(error?.code, KafkaErrorCode.AUTH_FAILED);
  t.equal(error?.retryable, false);
  t.match(
    error?.message,
    /SASL authentication as "weft" with scram-sha-256 failed/,
  );
  t.notMatch(
    error?.message,
    "wrong-password",
    "the password is not in the message",
  );
  t.ok(
    Date.now() - startedAt < 10_000,
    `failed after ${Date.now() - startedAt} ms, without retrying for 30 s`,
  );
  t.notOk(
    JSON.stringify(lines).includes("wrong-password"),
    "the password is not logged",
  );
  t.ok(
    lines.some(
      (line) =>
        line.level === levels.error && line.msg === "kafka connection failed",
    ),
  );
});

t.test("SASL to a listener without SASL is bounded", async (t) => {
  // The plaintext listener rejects the SASL handshake; the client must not hang.
  const startedAt = Date.now();
  await t.rejects(
    connectAndList({
      brokers: await brokers(),
      sasl: { mechanism: "scram-sha-256", ...saslCredentials },
      startupTimeout: "3s",
    }),
    {
      code: KafkaErrorCode.UNREACHABLE,
      message: /ssl and sasl settings match their listeners/,
    },
  );
  t.ok(
    Date.now() - startedAt < 20_000,
    `gave up after ${Date.now() - startedAt} ms`,
  );
});

t.test("TLS with the broker CA connects", async (t) => {
  const topics = await connectAndList({
    brokers: await tlsBrokers(),
    ssl: { ca: await tlsCa() },
  });
  t.ok(Array.isArray(topics));
});

t.test("TLS without the broker CA fails fast", async (t) => {
  const startedAt = Date.now();
  await t.rejects(
    connectAndList({
      brokers: await tlsBrokers(),
      ssl: true,
      startupTimeout: "30s",
    }),
    {
      code: KafkaErrorCode.TLS_FAILED,
      message: /self-signed certificate.*check ssl\.ca/,
    },
  );
  t.ok(
    Date.now() - startedAt < 10_000,
    `failed after ${Date.now() - startedAt} ms`,
  );
});

t.test("TLS with the wrong server name fails fast", async (t) => {
  await t.rejects(
    connectAndList({
      brokers: await tlsBrokers(),
      ssl: { ca: await tlsCa(), servername: "kafka.example.com" },
    }),
    {
      code: KafkaErrorCode.TLS_FAILED,
      message: /ERR_TLS_CERT_ALTNAME_INVALID/,
    },
  );
});

t.test("TLS to a plaintext listener fails fast", async (t) => {
  const startedAt = Date.now();
  await t.rejects(
    connectAndList({
      brokers: await brokers(),
      ssl: true,
      startupTimeout: "30s",
    }),
    {
      code: KafkaErrorCode.TLS_FAILED,
      message: /listener probably does not use TLS/,
    },
  );
  t.ok(
    Date.now() - startedAt < 10_000,
    `failed after ${Date.now() - startedAt} ms`,
  );
});

t.test("plaintext to a TLS listener is bounded", async (t) => {
  const startedAt = Date.now();
  await t.rejects(
    connectAndList({ brokers: await tlsBrokers(), startupTimeout: "2s" }),
    {
      code: KafkaErrorCode.UNREACHABLE,
      message: /ssl and sasl settings match their listeners/,
    },
  );
  t.ok(
    Date.now() - startedAt < 15_000,
    `gave up after ${Date.now() - startedAt} ms`,
  );
});

t.test("invalid TLS config fails before connecting", async (t) => {
  const { logger } = captureLogger();
  const addresses = await tlsBrokers();
  t.throws(
    () =>
      createKafkaClient(
        { brokers: addresses, ssl: { caFile: "/nonexistent/ca.pem" } },
        { logger },
      ),
    {
      code: KafkaErrorCode.TLS_INVALID,
      message: /cannot read \/nonexistent\/ca\.pem/,
    },
  );
});
