/** A trigger as the pool sees it: the pool calls its `pump` again when a slot frees up. */
export interface PoolMember {
  readonly name: string;
  pump(): void;
}

interface MemberState {
  inFlight: number;
  active: boolean;
}

/**
 * The shared pool of delivery slots. Besides the pool size, each trigger is
 * kept to its own in-flight limit by its runner. The pool keeps one slot for
 * every active trigger that has nothing in flight, so triggers that hold
 * every other slot with a slow endpoint never leave another trigger
 * without a slot.
 */
export class DeliveryPool {
  readonly size: number;
  readonly #members = new Map<PoolMember, MemberState>();
  readonly #waiting = new Set<PoolMember>();
  #used = 0;

  constructor(size: number) {
    this.size = size;
  }

  get used(): number {
    return this.#used;
  }

  /** Adds or removes a trigger from the slot reservation; an inactive trigger keeps no slot. */
  setActive(member: PoolMember, active: boolean): void {
    const state = this.#state(member);
    state.active = active;
    if (!active) this.#waiting.delete(member);
  }

  /** Takes one slot for `member`, or returns false and calls its `pump` once a slot frees up. */
  tryAcquire(member: PoolMember): boolean {
    const state = this.#state(member);
    const free = this.size - this.#used;
    const granted =
      state.inFlight === 0 ? free > 0 : free - 1 >= this.#reservedFor(member);
    if (!granted) {
      this.#waiting.delete(member);
      this.#waiting.add(member);
      return false;
    }
    state.inFlight += 1;
    this.#used += 1;
    return true;
  }

  release(member: PoolMember): void {
    const state = this.#state(member);
    state.inFlight -= 1;
    this.#used -= 1;

    if (this.#waiting.size === 0) return;
    // Wake waiting triggers from the front while slots are free. A woken trigger that still wants more
    // adds itself at the back, so triggers take turns.
    for (const waiter of [...this.#waiting]) {
      if (this.#used >= this.size) break;
      this.#waiting.delete(waiter);
      waiter.pump();
    }
  }

  /** Slots kept for the other active triggers that have nothing in flight. */
  #reservedFor(member: PoolMember): number {
    let reserved = 0;
    for (const [other, state] of this.#members)
      if (other !== member && state.active && state.inFlight === 0)
        reserved += 1;
    return reserved;
  }

  #state(member: PoolMember): MemberState {
    let state = this.#members.get(member);
    if (!state)
      this.#members.set(member, (state = { inFlight: 0, active: true }));
    return state;
  }
}
