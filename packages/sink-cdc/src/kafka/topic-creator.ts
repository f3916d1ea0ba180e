import { ensureTopic, type KafkaAdmin, type KafkaClient } from "@weft/kafka";
import type { Logger } from "pino";
import { describeError } from "./producer-errors.js";

/** Settings of topic creation. */
export interface TopicCreationOptions {
  enabled: boolean;
  partitions: number;
  /** -1 lets the broker apply its `default.replication.factor`. */
  replicationFactor: number;
  configs: Record<string, string>;
}

/**
 * Creates each topic the sink sends to once, before the first send to it,
 * when topic creation is enabled. Without it, a missing topic makes sends
 * fail until someone creates it, because the sink's producer turns off the
 * broker's topic auto-creation for its requests.
 */
export class TopicCreator {
  readonly #client: KafkaClient;
  readonly #options: TopicCreationOptions;
  readonly #logger: Logger;
  readonly #ready = new Set<string>();
  #admin: Promise<KafkaAdmin> | undefined;

  constructor(
    client: KafkaClient,
    options: TopicCreationOptions,
    logger: Logger,
  ) {
    this.#client = client;
    this.#options = options;
    this.#logger = logger;
  }

  /** Creates the topics that are missing; topics handled before are skipped without a request. */
  async ensure(topics: Iterable<string>): Promise<void> {
    if (!this.#options.enabled) return;
    for (const topic of topics) {
      if (this.#ready.has(topic)) continue;
      await this.#create(topic);
      this.#ready.add(topic);
    }
  }

  /** Forgets which topics exist, so the next {@link ensure} checks again, for example after a topic was deleted. */
  forget(): void {
    this.#ready.clear();
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (!admin) return;
    try {
      await (await admin).disconnect();
    } catch (error) {
      this.#logger.debug(
        { err: describeError(error) },
        "disconnecting the kafka admin client failed",
      );
    }
  }

  /** Creates the topic if it is missing; an existing topic with other settings is logged and used as it is. */
  async #create(topic: string): Promise<void> {
    const { partitions, replicationFactor, configs } = this.#options;
    const admin = await this.#connectedAdmin();
    await ensureTopic(
      admin,
      { topic, partitions, replicationFactor, configs },
      { logger: this.#logger, onMismatch: "warn" },
    );
  }

  #connectedAdmin(): Promise<KafkaAdmin> {
    if (!this.#admin) {
      const admin = this.#client.admin();
      const connecting = admin.connect().then(() => admin);
      this.#admin = connecting;
      connecting.catch(() => {
        if (this.#admin === connecting) this.#admin = undefined;
      });
    }
    return this.#admin;
  }
}
