import { DurationSchema, Type, type Static } from "@weft/core";

/**
 * TypeBox schema of a webhook action, as the `action:` entry of a trigger
 * writes it (without `use`). `${VAR}` references are already replaced by the
 * host's config loader.
 */
export const WebhookActionSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      description: "http or https URL of the endpoint",
    }),
    method: Type.Union(
      [Type.Literal("POST"), Type.Literal("PUT"), Type.Literal("PATCH")],
      { default: "POST" },
    ),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "extra request headers; write secrets as ${VAR}",
    }),
    secrets: Type.Union([Type.Array(Type.String()), Type.String()], {
      default: [],
      description:
        "Standard Webhooks signing secrets (whsec_ + base64): a list, or one string with several separated by spaces or commas",
    }),
    // Until the final response's headers arrive, redirect hops included; connecting is bounded by connectTimeout.
    timeout: DurationSchema("10s"),
    connectTimeout: DurationSchema("5s"),
    followRedirects: Type.Boolean({
      default: false,
      description:
        "follow 301, 302, 303, 307 and 308 responses, checking every hop",
    }),
    maxRedirects: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
    allowPrivateNetworks: Type.Boolean({
      default: false,
      description:
        "allow loopback, RFC 1918, carrier-grade NAT and unique-local IPv6 targets (link-local stays blocked)",
    }),
    allowedNetworks: Type.Array(Type.String(), {
      default: [],
      description:
        "CIDRs (or single addresses) that the address guard always allows",
    }),
    maxResponseBytes: Type.Integer({
      minimum: 0,
      default: 65_536,
      description: "response bytes read before the connection is dropped",
    }),
    includeVector: Type.Boolean({
      default: false,
      description: "send the event's vector in the body",
    }),
    maxConnections: Type.Integer({
      minimum: 1,
      default: 128,
      description: "connections per endpoint origin",
    }),
  },
  { additionalProperties: false },
);

/** A webhook action's settings after defaults. */
export type WebhookActionConfig = Static<typeof WebhookActionSchema>;

/** Settings of the webhook plugin itself; every endpoint setting belongs to a trigger's `action`. */
export const WebhookPluginSchema = Type.Object(
  {},
  { additionalProperties: false },
);
