import { createServer, type RequestListener, type Server } from "node:http";
import type { Limits } from "../config.js";

/**
 * An HTTP server with the limits of DOS-03: a client has 20 s to send its headers and 30 s for
 * the whole request (slowloris, slow bodies), idle keep-alive sockets close after 5 s, and at most
 * 100 headers of 16 KiB in all (431 beyond). Node checks the two timeouts every
 * `connectionsCheckingIntervalMs`, so that is short too. In production a reverse proxy (TLS)
 * sits in front; these hold even if it does not.
 */
export function createHttpServer(app: RequestListener, limits: Limits["server"]): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderSize,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    },
    app,
  );
  server.maxHeadersCount = limits.maxHeadersCount;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}

/** Listens and resolves with the bound port (0 picks a free one), or rejects on error. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
