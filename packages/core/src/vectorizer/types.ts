/** A vectorizer capability: turns texts into vectors. */
export interface Vectorizer {
  /** Dimensions of the vectors it returns, when fixed. */
  readonly dimensions?: number;
  /**
   * Returns one vector per text, in order. Throwing a retryable error (for
   * example a `WeftError` with `retryable: true`) makes the host fail the
   * write as retryable instead of rejecting the objects.
   */
  vectorize(texts: string[]): Promise<number[][]>;
}
