import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Paths that may carry a secret; pino replaces their values before anything is written. Defence in
 * depth: no code logs a body, a cookie or a form, and the request log (http/request-log.ts) writes
 * only a hash of the session id. "*.x" covers one level down, e.g. { err: { body } } from body-parser.
 */
export const REDACTED_PATHS = [
  "password", "newPassword", "currentPassword", "confirmPassword", "authKey", "key", "_csrf", "csrfToken",
  "cookie", "sid", "sessionId", "secret", "sessionSecret", "authorization", "body",
  "req.headers.cookie", "req.headers.authorization", "res.headers[\"set-cookie\"]", "headers.cookie", "headers[\"set-cookie\"]",
  "*.password", "*.newPassword", "*.currentPassword", "*.confirmPassword", "*.authKey", "*._csrf", "*.csrfToken",
  "*.cookie", "*.sid", "*.sessionId", "*.secret", "*.sessionSecret", "*.authorization", "*.body",
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
