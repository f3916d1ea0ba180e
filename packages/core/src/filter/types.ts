/**
 * Operators of one property condition. `path` names the property when its
 * name is `and`, `or` or `not`, or when it is nested inside an `object`.
 */
export interface Condition {
  equals?: unknown;
  notEquals?: unknown;
  gt?: unknown;
  gte?: unknown;
  lt?: unknown;
  lte?: unknown;
  in?: unknown[];
  notIn?: unknown[];
  contains?: unknown;
  like?: string;
  isNull?: boolean;
  path?: string[];
}

/**
 * A `where` clause: each key is a property name mapped to a {@link Condition},
 * or one of `and` (list), `or` (list) and `not` (one clause). A clause that has
 * `path` is itself a condition on that path. Keys of one clause combine with
 * and.
 */
export type Where = Record<string, unknown>;
