/** Returns the `stream` of a source position: `topic/partition`. */
export function streamOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/**
 * State of one assigned partition during one assignment. A rebalance replaces every state, so nothing carries over
 * from a time the partition may have belonged to another member.
 */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly stream: string;
  /** The assignment this state belongs to; see `KafkaIngest`'s epoch. */
  readonly epoch: number;
  /**
   * The next offset to accept. Messages below it were already accepted in
   * this assignment or are covered by the stored position, so they are dropped.
   */
  position: bigint | undefined;
  /**
   * The next offset after the last message whose batch the store committed.
   * Offsets up to here may be committed to Kafka.
   */
  written: bigint | undefined;
  /**
   * The group's committed offset when this assignment started (or, for a
   * group without one, the offset of the first fetch), then the last offset
   * this consumer committed. Commits never go at or below it.
   */
  committed: bigint | undefined;
  /** The partition's high watermark from the last fetched batch. */
  highWatermark: bigint | undefined;

  constructor(topic: string, partition: number, epoch: number) {
    this.topic = topic;
    this.partition = partition;
    this.stream = streamOf(topic, partition);
    this.epoch = epoch;
  }
}
