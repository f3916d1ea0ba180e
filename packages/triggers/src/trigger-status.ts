import type { ChangeOp } from "@weft/core";

/** A trigger's state as the API returns it. */
export interface TriggerStatus {
  name: string;
  /** Whether the trigger reads and delivers: enabled in the config and in its stored state. */
  enabled: boolean;
  configEnabled: boolean;
  /** Reason the trigger was disabled; null while it is enabled. */
  disabledReason: string | null;
  changedAt: string | null;
  action: string;
  classes: string[] | null;
  on: ChangeOp[];
  /** The next seq the trigger reads. */
  nextSeq: number;
  lastSeq: number;
  lag: number;
  pending: number;
  inFlight: number;
  deadLetters: number;
  consecutiveFailures: number;
}
