import type { Host } from "../host.js";

/** Reads the value of the sample of a host metric with the given labels, or 0 when the metric or the sample does not exist. */
export async function metricValue(
  host: Host,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = host.metrics.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const sample = values.find((value) =>
    Object.entries(labels).every(
      ([key, expected]) => String(value.labels[key]) === expected,
    ),
  );
  return sample?.value ?? 0;
}
