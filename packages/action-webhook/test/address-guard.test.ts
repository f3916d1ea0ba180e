import t from "tap";
import { startWebhookReceiver } from "@weft/testkit";
import { AddressGuard, WebhookErrorCode } from "@weft/action-webhook";
import {
  deliver,
  fakeResolver,
  forbidNonLoopbackSockets,
  loopbackConnector,
  webhookAction,
} from "./helpers.js";

// Every test here injects the resolver and the connector: the connector opens
// real sockets to 127.0.0.1 only, and the safety net below throws on any other
// socket, so even a broken guard sends no packet off this machine.
forbidNonLoopbackSockets();

t.test("guard verdicts by range", async (t) => {
  const guard = new AddressGuard({
    allowPrivateNetworks: false,
    allowedNetworks: [],
  });
  const blocked = [
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["fd00::1", "uniqueLocal"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["100.64.0.1", "carrierGradeNat"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["::ffff:127.0.0.1", "loopback"],
    ["not-an-ip", "invalid"],
  ];
  for (const [address, range] of blocked)
    t.same(
      guard.check(address),
      { allowed: false, range },
      `${address} blocked`,
    );
  for (const address of [
    "93.184.215.14",
    "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    "::ffff:8.8.8.8",
  ]) {
    t.equal(guard.check(address).allowed, true, `${address} allowed`);
  }

  const privateOk = new AddressGuard({
    allowPrivateNetworks: true,
    allowedNetworks: [],
  });
  for (const address of ["127.0.0.1", "10.1.2.3", "fd00::1", "100.64.0.1"])
    t.equal(
      privateOk.check(address).allowed,
      true,
      `${address} allowed with allowPrivateNetworks`,
    );
  for (const address of ["169.254.169.254", "fe80::1", "0.0.0.0", "::"])
    t.equal(
      privateOk.check(address).allowed,
      false,
      `${address} still blocked with allowPrivateNetworks`,
    );

  const listed = new AddressGuard({
    allowPrivateNetworks: false,
    allowedNetworks: [
      "10.20.0.0/16",
      "::ffff:192.168.7.0/120",
      "fd12::/16",
      "127.0.0.1",
    ],
  });
  t.equal(listed.check("10.20.3.4").allowed, true);
  t.equal(listed.check("10.21.3.4").allowed, false);
  t.equal(
    listed.check("192.168.7.9").allowed,
    true,
    "an IPv4-mapped CIDR covers the IPv4 addresses",
  );
  t.equal(listed.check("fd12::5").allowed, true);
  t.equal(listed.check("127.0.0.1").allowed, true);
  t.equal(
    listed.check("127.0.0.2").allowed,
    false,
    "a single address allows only itself",
  );
});

t.test("private address literal rejected at creation", async (t) => {
  const connect = loopbackConnector();
  const resolve = fakeResolver({});
  t.throws(
    () =>
      webhookAction(
        t,
        { url: "http://10.1.2.3:8080/hook" },
        { connect, resolve },
      ),
    {
      code: WebhookErrorCode.CONFIG_INVALID,
      details: { path: "url" },
      message:
        /url "http:\/\/10\.1\.2\.3:8080\/hook" points to 10\.1\.2\.3 \(range private\), which the address guard blocks/,
    },
  );
  t.throws(
    () => webhookAction(t, { url: "http://10.1.2.3:8080/hook" }),
    { message: /allowedNetworks: \[10\.1\.2\.3\/32\]/ },
    "the message names the fix",
  );
  t.throws(
    () => webhookAction(t, { url: "http://10.1.2.3:8080/hook" }),
    { message: /allowPrivateNetworks: true/ },
    "a private range may also be opened as a whole",
  );
  t.same(connect.attempts, [], "no connection was attempted");
  t.same(resolve.questions, [], "an IP literal needs no DNS");
});

t.test("blocked address literals rejected at creation", async (t) => {
  for (const url of [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:9000/hook",
    "http://10.0.0.5/",
    "http://[::1]/",
    "http://[fd00::1]/",
    "http://0.0.0.0:9/",
    "http://[::ffff:a9fe:a9fe]/",
    // The URL parser reads these as 127.0.0.1.
    "http://0x7f.1/",
    "http://2130706433/",
  ]) {
    t.throws(
      () => webhookAction(t, { url }),
      { code: WebhookErrorCode.CONFIG_INVALID, details: { path: "url" } },
      `${url} rejected`,
    );
  }
  t.throws(
    () => webhookAction(t, { url: "http://[::1]/" }),
    { message: /allowedNetworks: \[::1\/128\]/ },
    "an IPv6 literal gets an IPv6 network in the fix",
  );
  t.throws(
    () =>
      webhookAction(t, {
        url: "http://169.254.169.254/",
        allowPrivateNetworks: true,
      }),
    { message: /range linkLocal/ },
    "allowPrivateNetworks keeps link-local blocked",
  );
});

t.test("allowed address literals are accepted", async (t) => {
  for (const settings of [
    { url: "http://127.0.0.1:9000/hook", allowedNetworks: ["127.0.0.1/32"] },
    { url: "http://[::1]/", allowedNetworks: ["::1"] },
    { url: "http://10.0.0.5/", allowPrivateNetworks: true },
    { url: "http://93.184.215.14/" },
    { url: "http://localhost:9000/", allowedNetworks: [] },
  ])
    t.doesNotThrow(() => webhookAction(t, settings), JSON.stringify(settings));
});

t.test("host name resolving to a private address refused", async (t) => {
  const connect = loopbackConnector();
  const resolve = fakeResolver({
    "hooks.internal.example": ["10.0.0.5"],
    "mixed.example": ["93.184.215.14", "192.168.0.10"],
    "rebind.example": ["169.254.169.254"],
  });

  const internal = webhookAction(
    t,
    { url: "https://hooks.internal.example/hook" },
    { connect, resolve },
  );
  const outcome = await deliver(internal);
  t.match(
    !outcome.ok && outcome.message,
    /host hooks\.internal\.example resolves to 10\.0\.0\.5 \(private\)/,
  );
  t.equal(!outcome.ok && outcome.retryable, false);

  const mixed = webhookAction(
    t,
    { url: "http://mixed.example/hook" },
    { connect, resolve },
  );
  t.match(
    await deliver(mixed),
    { ok: false, message: /resolves to 192\.168\.0\.10 \(private\)/ },
    "one private address among public ones blocks the host",
  );

  const rebind = webhookAction(
    t,
    { url: "http://rebind.example/" },
    { connect, resolve },
  );
  t.match(await deliver(rebind), {
    ok: false,
    message: /169\.254\.169\.254 \(linkLocal\)/,
  });

  t.same(resolve.questions, [
    "hooks.internal.example",
    "mixed.example",
    "rebind.example",
  ]);
  t.same(connect.attempts, [], "no connection was attempted");
});

t.test("the checked address is the address connected", async (t) => {
  const connect = loopbackConnector();
  // A public address: the guard lets it through, and the test connector refuses to open the socket.
  const resolve = fakeResolver({ "hooks.example": ["93.184.215.14"] });
  const action = webhookAction(
    t,
    { url: "https://hooks.example/hook" },
    { connect, resolve },
  );
  const outcome = await deliver(action);
  t.match(outcome, {
    ok: false,
    retryable: true,
    message: /^WEFT_ERR_WEBHOOK_NETWORK/,
  });
  t.same(
    connect.attempts,
    ["93.184.215.14"],
    "the connector got the resolved IP, not the name to resolve again",
  );
});

t.test("allowlist opens a private network", async (t) => {
  const connect = loopbackConnector();
  const resolve = fakeResolver({ "ci.internal": ["10.9.8.7"] });
  const listed = webhookAction(
    t,
    { url: "http://ci.internal/hook", allowedNetworks: ["10.9.0.0/16"] },
    { connect, resolve },
  );
  t.match(
    await deliver(listed),
    { ok: false, message: /^WEFT_ERR_WEBHOOK_NETWORK/ },
    "allowed, then refused by the test connector",
  );
  t.same(connect.attempts, ["10.9.8.7"]);

  const open = webhookAction(
    t,
    { url: "http://10.1.1.1/", allowPrivateNetworks: true },
    { connect, resolve },
  );
  await deliver(open);
  t.same(connect.attempts, ["10.9.8.7", "10.1.1.1"]);

  t.same(connect.attempts, ["10.9.8.7", "10.1.1.1"]);
});

t.test("redirect to 169.254.169.254 refused", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: {
      status: 302,
      headers: { location: "http://169.254.169.254/latest/meta-data/iam" },
    },
  });
  t.teardown(() => receiver.close());
  const connect = loopbackConnector();
  const action = webhookAction(
    t,
    {
      url: `${receiver.url}/hook`,
      followRedirects: true,
      allowedNetworks: ["127.0.0.1/32"],
    },
    { connect, resolve: fakeResolver({}) },
  );

  const outcome = await deliver(action);
  t.equal(outcome.ok, false);
  t.equal(!outcome.ok && outcome.retryable, false);
  t.match(
    !outcome.ok && outcome.message,
    /^WEFT_ERR_WEBHOOK_ADDRESS_BLOCKED: address 169\.254\.169\.254 \(linkLocal\)/,
  );
  t.equal(receiver.requests.length, 1, "the first hop was delivered");
  t.same(
    connect.attempts,
    ["127.0.0.1"],
    "only the loopback hop reached the connector",
  );
});

t.test("redirect to a host name that resolves privately refused", async (t) => {
  const receiver = await startWebhookReceiver({
    defaultResponse: {
      status: 308,
      headers: { location: "http://internal.example:8080/admin" },
    },
  });
  t.teardown(() => receiver.close());
  const connect = loopbackConnector();
  const resolve = fakeResolver({ "internal.example": ["192.168.1.20"] });
  const action = webhookAction(
    t,
    {
      url: receiver.url,
      followRedirects: true,
      allowedNetworks: ["127.0.0.1/32"],
    },
    { connect, resolve },
  );

  t.match(await deliver(action), {
    ok: false,
    message: /internal\.example resolves to 192\.168\.1\.20/,
  });
  t.same(connect.attempts, ["127.0.0.1"]);
});

t.test("loopback needs an explicit allowlist", async (t) => {
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  t.throws(() => webhookAction(t, { url: receiver.url }), {
    code: WebhookErrorCode.CONFIG_INVALID,
    message: /points to 127\.0\.0\.1 \(range loopback\)/,
  });

  // A host name is checked after DNS, when the connector resolves it.
  const connect = loopbackConnector();
  const resolve = fakeResolver({ "receiver.test": ["127.0.0.1"] });
  const action = webhookAction(
    t,
    { url: "http://receiver.test/hook" },
    { connect, resolve },
  );
  t.match(await deliver(action), {
    ok: false,
    message:
      /^WEFT_ERR_WEBHOOK_ADDRESS_BLOCKED: host receiver\.test resolves to 127\.0\.0\.1 \(loopback\)/,
  });
  t.equal(receiver.requests.length, 0);
  t.same(connect.attempts, []);
});

t.test("DNS failure is retryable", async (t) => {
  const connect = loopbackConnector();
  const action = webhookAction(
    t,
    { url: "http://missing.example/" },
    { connect, resolve: fakeResolver({}) },
  );
  t.match(await deliver(action), {
    ok: false,
    retryable: true,
    message:
      /^WEFT_ERR_WEBHOOK_DNS_FAILED: host missing\.example did not resolve/,
  });
  t.same(connect.attempts, []);
});
