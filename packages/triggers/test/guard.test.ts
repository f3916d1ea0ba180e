import t from "tap";
import { startWebhookReceiver } from "@weft/testkit";
import {
  api,
  fakeResolver,
  loopbackConnector,
  product,
  startHost,
  waitUntil,
} from "./helpers.js";

t.test(
  "redirect to the metadata address ends in the dead letters",
  async (t) => {
    const receiver = await startWebhookReceiver({
      defaultResponse: {
        status: 302,
        headers: { location: "http://169.254.169.254/latest/meta-data/" },
      },
    });
    t.teardown(() => receiver.close());
    const connect = loopbackConnector();
    const host = await startHost(t, {
      webhook: {
        connect,
        resolve: fakeResolver({ "hooks.internal": ["10.0.0.7"] }),
      },
      triggers: {
        triggers: [
          {
            name: "redirected",
            class: "Product",
            action: {
              use: "webhook",
              url: receiver.url,
              followRedirects: true,
              allowedNetworks: ["127.0.0.1/32"],
            },
          },
          {
            name: "internal",
            class: "Product",
            action: { use: "webhook", url: "http://hooks.internal/hook" },
          },
        ],
      },
    });

    await host.write([product("p1", { name: "Phone" })]);
    for (const name of ["redirected", "internal"]) {
      const dead = await waitUntil(
        async () =>
          (await api(host, "GET", `/v1/triggers/${name}/dead-letters`)).body
            .deadLetters[0],
        `a dead letter of ${name}`,
      );
      t.equal(
        dead.reason,
        "rejected",
        `${name}: a blocked address is not retried`,
      );
      t.equal(dead.attempts, 1);
      t.match(dead.lastError.message, /^WEFT_ERR_WEBHOOK_ADDRESS_BLOCKED/);
    }
    t.same(
      connect.attempts,
      ["127.0.0.1"],
      "only the loopback receiver was connected",
    );
  },
);
