import type { Host } from "../host.js";
import { registerObjectRoutes } from "./object-routes.js";

/** Registers the host's own routes: health, readiness, metrics and the object API. */
export function registerHostRoutes(host: Host): void {
  const http = host.http!;

  http.route({
    method: "GET",
    url: "/healthz",
    auth: "none",
    handler: (context) => context.send(200, { status: "ok" }),
  });

  http.route({
    method: "GET",
    url: "/readyz",
    auth: "none",
    handler: (context) => {
      const ready = host.phase === "running" && host.readiness.ready;
      context.send(ready ? 200 : 503, {
        status: ready
          ? "ready"
          : host.phase === "running"
            ? "degraded"
            : host.phase,
        store: host.capabilities.hasStore ? host.store.kind : null,
        lastSeq: host.changes.lastSeq(),
        plugins: host.readiness.toJSON(),
      });
    },
  });

  http.route({
    method: "GET",
    url: "/metrics",
    handler: async (context) => {
      const text = await host.metrics.metrics();
      context.response.writeHead(200, {
        "content-type": host.metrics.contentType,
      });
      context.response.end(text);
    },
  });

  registerObjectRoutes(host);
}
