/** One execution result, serialized once and shared by every subscriber of its group. */
export class SerializedResult {
  /** The result's JSON members without the outer braces, such as `"data":{...}`. */
  readonly members: string;
  #bytes: Buffer | undefined;

  constructor(members: string) {
    this.members = members;
  }

  /** The members as UTF-8, encoded on first use and then shared. */
  get bytes(): Buffer {
    this.#bytes ??= Buffer.from(this.members);
    return this.#bytes;
  }
}
