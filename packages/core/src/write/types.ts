import type { ChangeOp, ChangeMetadata } from "../changes/types.js";
import type { ObjectKey } from "../ids.js";
import type { SourcePosition, StateWrite } from "../store/types.js";

/** One write of `host.write`. */
export interface WriteRequest {
  op: "upsert" | "patch" | "delete";
  class: string;
  /** A UUID, or any other key that becomes a UUIDv5 id; absent on upsert creates a random id. */
  id?: ObjectKey;
  properties?: Record<string, unknown>;
  /** Absent keeps the stored vector (or lets the class's vectorizer set it); null removes it. */
  vector?: number[] | null;
}

/** Options of one `host.write` call: one batch, one transaction. */
export interface WriteOptions {
  /** Source positions committed in the same transaction as the objects. */
  positions?: SourcePosition[];
  /** Plugin state committed in the same transaction. */
  state?: StateWrite[];
  metadata?: ChangeMetadata;
  /** The writing plugin; set by the host for plugins, `http` for the object API. */
  origin?: { plugin?: string; stream?: string; position?: string };
}

/** Why an item was not written. */
export interface ItemError {
  code: string;
  message: string;
  retryable: boolean;
  /** The property at fault, when one is. */
  property?: string;
  /** One message per property, for validation errors. */
  problems?: Array<{ property: string; message: string }>;
}

/** The outcome of one request, in request order. */
export interface WriteResult {
  /** The object id (a UUID); absent when the request's id was invalid. */
  id?: string;
  /** `ok`: committed with an event; `noop`: nothing changed; `rejected`: not written. */
  status: "ok" | "noop" | "rejected";
  op?: ChangeOp;
  seq?: number;
  error?: ItemError;
}
