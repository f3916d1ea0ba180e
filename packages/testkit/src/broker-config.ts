import type { KafkaInstall } from "./paths.js";

/**
 * Credentials that the test brokers accept on their SASL listener, for
 * SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN. They protect nothing but a
 * throwaway broker on 127.0.0.1, so they are constants.
 */
export const saslCredentials = {
  username: "weft",
  password: "weft-test-password",
} as const;

/** TCP ports of one broker's listeners, all on 127.0.0.1. */
export interface BrokerPorts {
  plaintext: number;
  sasl: number;
  tls: number;
  controller: number;
}

/** Client bootstrap addresses of one broker, one list per listener. */
export interface BrokerAddresses {
  brokers: string[];
  saslBrokers: string[];
  tlsBrokers: string[];
}

export function brokerAddresses(ports: BrokerPorts): BrokerAddresses {
  return {
    brokers: [`127.0.0.1:${ports.plaintext}`],
    saslBrokers: [`127.0.0.1:${ports.sasl}`],
    tlsBrokers: [`127.0.0.1:${ports.tls}`],
  };
}

/**
 * Renders server.properties for a single-node KRaft broker that is its own
 * controller. Replication factors are 1 because there is one node, internal
 * topics get one partition so the first consumer group starts fast, and
 * thread pools are small because test machines are shared.
 */
export function brokerProperties(
  ports: BrokerPorts,
  dataDir: string,
  install: KafkaInstall,
): string {
  const { username, password } = saslCredentials;
  const scramLogin =
    "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  const plainLogin = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`;
  const lines = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    "controller.listener.names=CONTROLLER",
    `listeners=PLAINTEXT://127.0.0.1:${ports.plaintext},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SSL://127.0.0.1:${ports.tls},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.plaintext},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SSL://127.0.0.1:${ports.tls}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",

    // SASL listener: SCRAM users are created at format time (see storage.ts); PLAIN reads them from JAAS.
    "listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${scramLogin}`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scramLogin}`,
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${plainLogin}`,

    // TLS listener with the self-signed certificate that bin/setup.mjs created.
    `listener.name.ssl.ssl.keystore.location=${install.keyStoreFile}`,
    "listener.name.ssl.ssl.keystore.type=PKCS12",
    `listener.name.ssl.ssl.keystore.password=${install.keyStorePassword}`,
    `listener.name.ssl.ssl.key.password=${install.keyStorePassword}`,

    `log.dirs=${dataDir}`,
    "num.partitions=1",
    "auto.create.topics.enable=true",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "share.coordinator.state.topic.num.partitions=1",
    "group.initial.rebalance.delay.ms=0",
    // Lets tests use short consumer session timeouts; the broker default minimum is 6000 ms.
    "group.min.session.timeout.ms=1000",
    "num.network.threads=2",
    "num.io.threads=2",
    "background.threads=2",
    "num.recovery.threads.per.data.dir=1",
    "log.cleaner.threads=1",
  ];
  return `${lines.join("\n")}\n`;
}

/** Log4j 2 configuration: the broker logs to `${kafka.logs.dir}/server.log`, which start-up failures print. */
export const log4jProperties = `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

/** JVM options: a small heap and a quick-starting JIT, because test brokers are small and short-lived. */
export function jvmOptions(
  heapMb: number,
  logsDir: string,
  log4jFile: string,
): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(64, heapMb)}m`,
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4jFile}`,
    `-Dkafka.logs.dir=${logsDir}`,
  ];
}
