import { CdcErrorCode, cdcError } from "./errors.js";

/** Kafka's rule for topic names: at most 249 characters of ASCII letters, digits, `.`, `_` and `-`. */
const legalTopic = /^[A-Za-z0-9._-]{1,249}$/;
const classPlaceholder = /\{class\}/g;

/**
 * Maps each class to its topic: the configured topic, or the template with
 * `{class}` replaced by the class name. Every topic is checked once here, so a
 * bad name fails at start-up instead of at the first send.
 */
export function createTopicRouter(
  template: string,
  classNames: Iterable<string>,
  path: string,
): (className: string) => string {
  const leftover = template.replace(classPlaceholder, "");
  if (/[{}]/.test(leftover)) {
    throw cdcError(
      CdcErrorCode.TOPIC_INVALID,
      `${path}.topic: ${JSON.stringify(template)} contains a placeholder other than {class}; write a topic name or a template such as weft.{class}`,
      { details: { path: `${path}.topic`, topic: template } },
    );
  }

  const topics = new Map<string, string>();
  for (const className of classNames) {
    const topic = template.replace(classPlaceholder, className);
    if (!legalTopic.test(topic) || topic === "." || topic === "..") {
      throw cdcError(
        CdcErrorCode.TOPIC_INVALID,
        `${path}.topic: ${JSON.stringify(topic)} (class ${className}) is not a valid Kafka topic name; use at most 249 letters, digits, ".", "_" and "-"`,
        { details: { path: `${path}.topic`, topic, class: className } },
      );
    }
    topics.set(className, topic);
  }

  return (className) => {
    const topic = topics.get(className);
    if (topic === undefined)
      throw new Error(
        `no topic for class ${className}: the router only knows the classes given at start-up`,
      );
    return topic;
  };
}
