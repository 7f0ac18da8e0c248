/**
 * The one way a request is refused: an HTTP status, a kebab-case code for the logs (and the API's
 * problem documents), and, for 429 and 503, when to try again. Everything else that reaches the
 * error handler is a bug (500), except the few foreign errors toHttpError translates.
 */
export class HttpError extends Error {
  readonly retryAfterSeconds: number | undefined;
  /** The API's problem document lists these (RFC 9457 errors[]); the web pages ignore them. */
  readonly errors: readonly FieldError[];
  /** WWW-Authenticate, for a 401. */
  readonly challenge: string | undefined;
  constructor(
    readonly status: number,
    readonly code: string,
    options: { retryAfterSeconds?: number; detail?: string; errors?: readonly FieldError[]; challenge?: string } = {},
  ) {
    super(options.detail ?? code);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.errors = options.errors ?? [];
    this.challenge = options.challenge;
  }
}

/** One bad field of a request and what is wrong with it: a body field by JSON pointer (RFC 6901),
 * a query or path parameter by name. */
export type FieldError = { pointer: string; detail: string } | { parameter: string; detail: string };

/** SQLite's answers when the database cannot take the request now (another writer, a full or failing disk). */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/;
/** A busy database frees up within the busy timeout; a full or failing disk needs an operator. */
const RETRY_BUSY_SECONDS = 1;
const RETRY_UNAVAILABLE_SECONDS = 30;

/**
 * What an error means for the client. HttpError as it is; SQLite busy, locked, full or I/O errors
 * as 503 with Retry-After (the service is unavailable, not broken); errors of the libraries we
 * use (body-parser, csrf-sync) by the status they carry; anything else 500.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && SQLITE_UNAVAILABLE.test(code)) {
    const busy = code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
    return new HttpError(503, busy ? "database-busy" : "database-unavailable", { retryAfterSeconds: busy ? RETRY_BUSY_SECONDS : RETRY_UNAVAILABLE_SECONDS });
  }
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new HttpError(status, typeof code === "string" ? kebab(code) : typeof (error as { type?: unknown }).type === "string" ? kebab((error as { type: string }).type) : "refused");
  }
  return new HttpError(500, "internal-error");
}

function kebab(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
