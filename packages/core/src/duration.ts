import {
  Type,
  type TUnion,
  type TString,
  type TNumber,
} from "@sinclair/typebox";
import { ErrorCode, WeftError } from "./errors.js";

const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A duration as config files write it: `250ms`, `1s`, `5m`, `2h`, `1d` or milliseconds. */
export type DurationInput = string | number;

/**
 * Parses a config duration into milliseconds.
 * @throws WeftError `WEFT_ERR_CONFIG_DURATION` naming the value and `where`.
 */
export function parseDuration(
  value: DurationInput,
  where = "duration",
): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0)
    return value;

  if (typeof value === "string") {
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed);

    const match = durationPattern.exec(trimmed);
    if (match) return Math.round(Number(match[1]) * units[match[2]]);
  }

  throw new WeftError(
    ErrorCode.CONFIG_DURATION,
    `${where}: invalid duration ${JSON.stringify(value)}; write a number of milliseconds or a string such as "250ms", "1s", "5m", "2h" or "1d"`,
    { details: { path: where, value } },
  );
}

/** TypeBox schema of a duration setting, with an optional default. */
export function DurationSchema(
  defaultValue?: DurationInput,
): TUnion<[TString, TNumber]> {
  const options = defaultValue === undefined ? {} : { default: defaultValue };
  return Type.Union(
    [
      Type.String({ pattern: "^\\s*\\d+(\\.\\d+)?(ms|s|m|h|d)?\\s*$" }),
      Type.Number({ minimum: 0 }),
    ],
    {
      ...options,
      description:
        "duration: milliseconds or a string such as 250ms, 1s, 5m, 2h, 1d",
    },
  );
}
