import t from "tap";
import { startWebhookReceiver } from "@weft/testkit";

t.test("records method, path, headers and raw body", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  t.match(receiver.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const body = Buffer.from([0x7b, 0x7d, 0x00, 0xff]);
  const response = await fetch(`${receiver.url}/hooks/order?x=1`, {
    method: "POST",
    headers: {
      "content-type": "application/octet-stream",
      "webhook-id": "msg_1",
    },
    body,
  });
  t.equal(response.status, 200);

  const [request] = await receiver.waitFor(1);
  t.equal(request.method, "POST");
  t.equal(request.path, "/hooks/order?x=1");
  t.equal(request.headers["webhook-id"], "msg_1");
  t.same(request.body, body);
  t.equal(request.index, 0);
});

t.test("responds with planned statuses and delays", async (t) => {
  const receiver = await startWebhookReceiver({
    responses: [
      { status: 503 },
      { status: 500, body: "boom" },
      { status: 204, delayMs: 300 },
    ],
  });
  t.teardown(() => receiver.close());

  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const startedAt = Date.now();
    const response = await fetch(receiver.url, {
      method: "POST",
      body: `attempt ${i}`,
    });
    statuses.push(response.status);
    if (i === 1) t.equal(await response.text(), "boom");
    if (i === 2) t.ok(Date.now() - startedAt >= 290, "third response delayed");
  }
  t.same(
    statuses,
    [503, 500, 204, 200],
    "the default response follows the planned ones",
  );

  receiver.respondWith((request) => ({
    status: request.body.toString() === "fail" ? 400 : 202,
  }));
  t.equal(
    (await fetch(receiver.url, { method: "POST", body: "fail" })).status,
    400,
  );
  t.equal(
    (await fetch(receiver.url, { method: "POST", body: "ok" })).status,
    202,
  );
  t.equal(receiver.requests.length, 6);
});

t.test("waitFor times out with the count", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  await fetch(receiver.url);
  await t.rejects(receiver.waitFor(2, 200), {
    message: "webhook receiver: expected 2 requests within 200 ms, received 1",
  });
});

t.test("close ends pending delayed responses", async (t) => {
  const receiver = await startWebhookReceiver({
    responses: [{ delayMs: 60_000 }],
  });
  const pending = fetch(receiver.url).then(
    () => "responded",
    () => "connection closed",
  );
  await receiver.waitFor(1);
  const startedAt = Date.now();
  await receiver.close();
  t.equal(await pending, "connection closed");
  t.ok(Date.now() - startedAt < 2_000, "close does not wait for the delay");
});
