import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** Paths that may carry a secret; pino replaces their values before anything is written. */
export const REDACTED_PATHS = [
  "password", "newPassword", "currentPassword", "authKey", "key", "_csrf", "csrfToken", "cookie", "sid",
  "req.headers.cookie", "req.headers.authorization", "res.headers[\"set-cookie\"]", "req.body", "body",
  "*.password", "*.newPassword", "*.authKey", "*._csrf", "*.cookie",
];

/** Structured JSON lines with UTC ISO timestamps. */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "kakunin" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
