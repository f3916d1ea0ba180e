import t from "tap";
import { Histogram, Registry } from "prom-client";
import { LatencyHistogram } from "../dist/latency-histogram.js";

const name = "weft_trigger_delivery_duration_seconds";
const help = "Duration of one delivery attempt, by result (success or failure)";
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Creates the histogram under test and a prom-client `Histogram` with the same settings, each on its own registry. */
function pair() {
  const ours = new Registry();
  const reference = new Registry();
  const histogram = new LatencyHistogram({
    name,
    help,
    buckets,
    registers: [ours],
  });
  const promHistogram = new Histogram({
    name,
    help,
    labelNames: ["trigger", "result"],
    buckets,
    registers: [reference],
  });
  return { ours, reference, histogram, promHistogram };
}

t.test("histogram text equals prom-client's", async (t) => {
  const { ours, reference, histogram, promHistogram } = pair();
  t.equal(
    await ours.metrics(),
    await reference.metrics(),
    "no series before the first observation",
  );

  // Values on the bounds, between them, above the last one and zero. The series see their first observation in a mixed order.
  const observations: Array<[string, string, number]> = [
    ["orders", "failure", 0.25],
    ["orders", "success", 0.005],
    ["products", "success", 0],
    ["orders", "success", 0.0051],
    ["orders", "success", 0.003],
    ["products", "success", 30],
    ["products", "success", 31.5],
    ["orders", "failure", 12.125],
    ["orders", "success", 0.1 + 0.2],
    ["products", "success", 1e-9],
  ];
  const series = new Map<string, ReturnType<LatencyHistogram["series"]>>();
  for (const [trigger, result] of observations)
    series.set(`${trigger}/${result}`, histogram.series(trigger, result));
  for (const [trigger, result, seconds] of observations) {
    series.get(`${trigger}/${result}`)!.observe(seconds);
    promHistogram.labels(trigger, result).observe(seconds);
  }

  const text = await ours.metrics();
  t.equal(text, await reference.metrics());
  t.match(
    text,
    `${name}_bucket{le="0.005",trigger="orders",result="success"} 2`,
    "a value on a bound counts in that bucket",
  );
  t.match(text, `${name}_count{trigger="products",result="success"} 4`);

  const ourJson = await ours.getMetricsAsJSON();
  const referenceJson = await reference.getMetricsAsJSON();
  t.same(
    ourJson[0].values.map(({ labels, value, metricName }) => ({
      labels,
      value,
      metricName,
    })),
    referenceJson[0].values.map(({ labels, value, metricName }) => ({
      labels,
      value,
      metricName,
    })),
    "the same samples through get()",
  );
});

t.test("histogram reset drops every count", async (t) => {
  const { ours, reference, histogram, promHistogram } = pair();
  const success = histogram.series("orders", "success");
  success.observe(0.02);
  promHistogram.labels("orders", "success").observe(0.02);

  ours.resetMetrics();
  reference.resetMetrics();
  t.equal(await ours.metrics(), await reference.metrics(), "empty after reset");

  success.observe(0.7);
  promHistogram.labels("orders", "success").observe(0.7);
  t.equal(
    await ours.metrics(),
    await reference.metrics(),
    "a series handed out before the reset still counts",
  );
});

t.test("histogram series is shared per label set", async (t) => {
  const { histogram } = pair();
  t.equal(
    histogram.series("orders", "success"),
    histogram.series("orders", "success"),
  );
  t.not(
    histogram.series("orders", "success"),
    histogram.series("orders", "failure"),
  );
});
