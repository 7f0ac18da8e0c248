import type { ServerResponse } from "node:http";
import { createApp } from "./app.js";
import { loadOrCreateSigningKey } from "./audit/signing-key.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { checkAtStartup, openMigratedDatabase, type Db } from "./db/database.js";
import { createHttpServer, listen } from "./http/listen.js";
import { createLogger, type Logger } from "./logger.js";
import { createHasher } from "./security/hasher.js";
import { createLoginNameHash } from "./security/keyed-hash.js";
import { createServices, webhookKeysOf } from "./composition.js";
import { notificationSettings } from "./notifications/mail.service.js";
import { createSmtpTransport } from "./notifications/mailer.js";
import { startNotifications } from "./notifications/notification.runner.js";
import { loadOrCreateSealingKey } from "./security/sealed-box.js";

/** How long a shutdown waits for requests in flight before it closes their connections. */
const SHUTDOWN_GRACE_MS = 10_000;
/** A repeat of the first signal within this is the same one relayed (by npm), and ignored. */
const RELAYED_SIGNAL_MS = 500;

/** A start-up failure we can explain in one line; anything else is a bug and keeps its stack in the log. */
class StartupError extends Error {}

/** Stops the process with one line on stderr (no stack trace: the operator needs the reason). */
function fail(message: string): never {
  process.stderr.write(`kakunin: ${message}\n`);
  process.exit(1);
}

/** Why a database path cannot be used, in the operator's words. */
function describeOpenError(error: unknown): string {
  const code = (error as { code?: string }).code ?? "";
  const message = (error as Error).message;
  // mkdir -p answers EEXIST when a part of the path is a file, open() answers ENOTDIR.
  if (code === "ENOTDIR" || code === "EEXIST") return "a part of the path is a file, not a folder";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EROFS" || code.startsWith("SQLITE_READONLY")) return "the file or its folder is read-only (SQLite needs to write the file and its -wal and -shm beside it)";
  if (code.startsWith("SQLITE_CANTOPEN")) return "the file cannot be created or opened there";
  if (code === "SQLITE_NOTADB") return "the file is not a SQLite database";
  if (code.startsWith("SQLITE_CORRUPT")) return `the database is damaged (${message}); restore it from a backup (docs/operations.md)`;
  return message;
}

/** Opens and migrates the database, then proves it usable: a write lock can be taken (so a
 * read-only file or folder fails now, not at the first login) and the file reads (DB-05):
 * quick_check up to 256 MB, every table's first and last row above. */
function openServiceDatabase(config: Config, logger: Logger): Db {
  let db: Db | undefined;
  try {
    db = openMigratedDatabase(config.databasePath);
    const check = checkAtStartup(db);
    if (check.finding !== "ok") {
      throw new StartupError(`the database fails ${check.full ? "quick_check" : "its start-up check"} (${check.finding}); run "npm run admin -- check" and restore from a backup`);
    }
    if (!check.full) logger.info("database larger than 256 MB: quick_check left to the daily \"admin check\"; the start read every table's first and last row");
    return db;
  } catch (error) {
    db?.close();
    const reason = error instanceof StartupError ? error.message : describeOpenError(error);
    throw new StartupError(`cannot use the database at ${config.databasePath}: ${reason}`);
  }
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The composition root: config -> database -> app -> listen; closes cleanly on SIGTERM/SIGINT. */
async function main(logger: Logger): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new StartupError(error.message);
    throw error;
  }
  const db = openServiceDatabase(config, logger);
  // A key an admin could read would let forged checkpoints pass: start no further.
  let key: ReturnType<typeof loadOrCreateSigningKey>;
  try {
    key = loadOrCreateSigningKey(config.auditSigningKeyFile);
  } catch (error) {
    key = { ok: false, problem: `cannot create the audit signing key ${config.auditSigningKeyFile}: ${describeOpenError(error)}` };
  }
  if (!key.ok) {
    db.close();
    throw new StartupError(key.problem);
  }
  if (key.created) logger.warn({ keyFile: config.auditSigningKeyFile }, "created the audit signing key: keep its public key (npm run admin -- audit public-key) off this host");
  // The webhook secrets' key: created beside the audit key at the first start, like it.
  const webhookKey = loadOrCreateSealingKey(config.webhooks.keyFile);
  if (!webhookKey.ok) {
    db.close();
    throw new StartupError(webhookKey.problem);
  }
  if (webhookKey.created) logger.warn({ keyFile: config.webhooks.keyFile }, "created the webhook key: back it up with the audit signing key, not with the database");
  const hasher = await createHasher(config.argon2);
  // Invitations are mailed while the administrator waits, over their own connection to the relay.
  const invitationTransport = config.mail.smtpUrl === null ? undefined : createSmtpTransport(config.mail.smtpUrl);
  const services = createServices({
    db, clock: systemClock, hasher, limits: config.limits, loginNames: createLoginNameHash(config.sessionSecrets[0]!),
    notifications: notificationSettings(config.mail),
    ...(invitationTransport ? { smtp: { transport: invitationTransport, from: config.mail.from } } : {}),
    webhooks: { policy: { production: config.nodeEnv === "production", allowedHosts: config.webhooks.allowedHosts }, keys: webhookKeysOf(webhookKey) },
  });
  const checkpoints = services.audit.scheduleCheckpoints(
    { signer: key.signer, logFile: config.auditCheckpointLog },
    { onError: (error) => logger.error({ err: error }, "audit checkpoint failed") },
  );
  const app = createApp({ config, services, clock: systemClock, logger });
  // Timeouts (headers 20 s, request 30 s), keep-alive and header limits: config.limits.server.
  const server = createHttpServer(app, config.limits.server);

  // Responses still being worked on; told to close their connection once sent when we shut down.
  const inFlight = new Set<ServerResponse>();
  server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.on("close", () => inFlight.delete(res));
  });

  let port: number;
  try {
    port = await listen(server, config.port, config.host);
  } catch (error) {
    checkpoints.stop();
    db.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  server.on("error", (error) => logger.error({ err: error }, "server error"));
  // The daily scan and the mail sender run beside the requests, on unref'd timers.
  const notifications = startNotifications({
    config: config.mail, notifications: services.notifications, mail: services.mail, webhooks: services.webhooks, clock: systemClock, logger,
  });
  logger.info({
    host: config.host, port, database: config.databasePath, nodeEnv: config.nodeEnv,
    argon2: { poolThreads: config.poolThreads, inFlight: config.limits.argon2.concurrency, queue: config.limits.argon2.queue },
  }, "listening");
  // Plain text, for people and for the tests that start it with PORT=0.
  process.stdout.write(`Kakunin is listening on ${urlOf(config.host, port)}\n`);

  let closing: { signal: NodeJS.Signals; at: number } | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      // Ctrl-C under `npm start` reaches us twice, from the terminal and relayed by npm: the same
      // signal within a moment is that one press, not an operator insisting.
      if (signal === closing.signal && Date.now() - closing.at < RELAYED_SIGNAL_MS) return;
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(1);
    }
    closing = { signal, at: Date.now() };
    app.beginShutdown();
    logger.info({ signal, inFlight: inFlight.size }, "shutting down: no new connections, finishing the requests in flight");
    for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    const grace = setTimeout(() => {
      logger.warn({ inFlight: inFlight.size }, "grace period over: closing the remaining connections");
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    grace.unref();
    server.close(async () => {
      clearTimeout(grace);
      app.close();
      // The mail in hand is accepted and marked, and the last rows (the requests just finished)
      // are signed, before the database closes.
      await notifications.stop();
      invitationTransport?.close();
      checkpoints.stop();
      // Closing checkpoints the WAL into the database file and removes the -wal file.
      db.close();
      logger.info({ signal }, "stopped");
      process.exitCode = 0;
      // Work still running for a connection closed at the deadline (an argon2 hash on the pool)
      // must not hold the exit: nothing is left for it to write to.
      setTimeout(() => process.exit(0), 1000).unref();
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

const logger = createLogger();
// After an uncaught error the process state is unknown: log it and stop (systemd restarts us).
process.on("uncaughtException", (error) => {
  logger.fatal({ err: error }, "uncaught exception");
  process.exit(1);
});
process.on("unhandledRejection", (reason) => {
  logger.fatal({ err: reason }, "unhandled rejection");
  process.exit(1);
});
try {
  await main(logger);
} catch (error) {
  if (!(error instanceof StartupError)) logger.fatal({ err: error }, "start-up failed");
  fail(error instanceof StartupError ? error.message : `cannot start: ${(error as Error).message}`);
}
