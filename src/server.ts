import type { Server } from "node:http";
import { createApp } from "./app.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig } from "./config.js";
import { openMigratedDatabase } from "./db/database.js";
import { createLogger } from "./logger.js";
import { createHasher } from "./security/hasher.js";
import { createServices } from "./services.js";
import { createSqliteThrottle } from "./verification/sqlite-throttle.js";

/** The composition root: config -> database -> app -> listen; closes cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const logger = createLogger();
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`kakunin: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let db;
  try {
    db = openMigratedDatabase(config.databasePath);
  } catch (error) {
    process.stderr.write(`kakunin: cannot open the database at ${config.databasePath}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const hasher = await createHasher(config.argon2);
  const clock = systemClock;
  const services = createServices(db, clock, hasher);
  const app = createApp({ config, db, services, hasher, clock, logger, throttle: createSqliteThrottle(db, clock) });
  const server: Server = app.listen(config.port, config.host);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.on("error", (error) => {
    process.stderr.write(`kakunin: cannot listen on ${config.host}:${config.port}: ${error.message}\n`);
    process.exit(1);
  });
  server.on("listening", () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    logger.info({ host: config.host, port, database: config.databasePath }, "listening");
    process.stdout.write(`Kakunin is listening on http://${config.host}:${port}\n`);
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      server.closeAllConnections();
    }, 10_000);
    force.unref();
    server.close(() => {
      app.close();
      db.close();
      logger.info("stopped");
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

await main();
