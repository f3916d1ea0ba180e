import {
  ErrorCode,
  WeftError,
  checkConfig,
  formatProblems,
  type ConfigProblem,
} from "@weft/core";
import {
  configSchema,
  type ConsumerConfig,
  type SourceKafkaConfig,
} from "./config.js";

/**
 * Applies defaults and checks the plugin config, including what the schema
 * cannot express: every named class exists, each consumer has topics and
 * exactly one way to pick a class, and names are unique.
 * @throws WeftError `WEFT_ERR_CONFIG_INVALID` listing every problem with its config path.
 */
export function resolveConfig(
  input: unknown,
  classNames: ReadonlySet<string>,
  basePath: string,
): SourceKafkaConfig {
  const problems: ConfigProblem[] = [];
  const config = checkConfig<SourceKafkaConfig>(
    configSchema,
    input,
    basePath,
    problems,
  );

  if (problems.length === 0) {
    if (config.enabled && config.brokers === undefined) {
      problem(
        problems,
        `${basePath}.brokers`,
        "missing required key: set the bootstrap brokers, or enabled: false",
      );
    }
    const names = new Map<string, number>();
    config.consumers.forEach((consumer, index) => {
      const path = `${basePath}.consumers[${index}]`;
      checkConsumer(consumer, classNames, path, problems);

      const name = consumerName(consumer);
      const first = names.get(name);
      if (first !== undefined) {
        problem(
          problems,
          `${path}.name`,
          `consumer name ${JSON.stringify(name)} is also used by consumers[${first}]; set a unique name`,
        );
      } else names.set(name, index);
    });
  }

  if (problems.length > 0) {
    throw new WeftError(
      ErrorCode.CONFIG_INVALID,
      `invalid @weft/source-kafka config:\n${formatProblems(problems)}`,
      {
        details: { problems },
      },
    );
  }
  return config;
}

/** Returns the consumer's name in logs, metrics and stored positions: `name`, or the group id. */
export function consumerName(consumer: ConsumerConfig): string {
  return consumer.name ?? consumer.groupId;
}

function checkConsumer(
  consumer: ConsumerConfig,
  classNames: ReadonlySet<string>,
  path: string,
  problems: ConfigProblem[],
): void {
  const known = () => [...classNames].join(", ") || "none";
  const checkClass = (name: string, at: string) => {
    if (!classNames.has(name))
      problem(
        problems,
        at,
        `unknown class ${JSON.stringify(name)}; configured classes: ${known()}`,
      );
  };

  if (consumer.topics.length === 0 && !consumer.topicPattern) {
    problem(
      problems,
      `${path}.topics`,
      "set at least one topic, or topicPattern",
    );
  }
  if (consumer.topicPattern) {
    try {
      new RegExp(consumer.topicPattern);
    } catch (error) {
      problem(
        problems,
        `${path}.topicPattern`,
        `invalid regular expression: ${(error as Error).message}`,
      );
    }
  }

  const route = consumer.route;
  if (consumer.class && route)
    problem(problems, `${path}.route`, "set either class or route, not both");
  if (!consumer.class && !route)
    problem(
      problems,
      `${path}.class`,
      "missing: set class, or route to pick a class per message",
    );
  if (consumer.class) checkClass(consumer.class, `${path}.class`);
  if (route) {
    const ways = [
      route.field,
      route.header,
      route.topic ? true : undefined,
    ].filter((way) => way !== undefined);
    if (ways.length !== 1)
      problem(
        problems,
        `${path}.route`,
        "set exactly one of field, header or topic: true",
      );
    for (const [value, className] of Object.entries(route.classes ?? {}))
      checkClass(className, `${path}.route.classes.${value}`);
    if (route.default) checkClass(route.default, `${path}.route.default`);
  }

  if (consumer.idSource === "field" && !consumer.keyField) {
    problem(
      problems,
      `${path}.keyField`,
      "missing: idSource field needs keyField",
    );
  }
}

function problem(
  problems: ConfigProblem[],
  path: string,
  message: string,
): void {
  problems.push({ path, code: ErrorCode.CONFIG_INVALID, message });
}
