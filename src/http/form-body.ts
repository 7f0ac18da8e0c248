import { HttpError } from "./http-error.js";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";

/** A refused request body, with the status that says why (400, 413 or 415). */
function badBody(status: 400 | 413 | 415, code: string): HttpError {
  return new HttpError(status, code, { detail: `request body refused: ${code}` });
}

const FORM_TYPE = "application/x-www-form-urlencoded";
// Our fields' names: a letter first (so never `__proto__`), or the CSRF token's `_csrf`.
const FIELD_NAME = /^(?:_csrf|[A-Za-z][A-Za-z0-9_]{0,31})$/;

/**
 * Body handling for every POST, in the order that costs least first: the declared size (413),
 * the media type, charset and encoding (415), then the body is read up to the limit (413), its
 * percent-encoding checked byte for byte (400), and parsed into at most `maxFields` plain string
 * fields (413), each named once, without brackets (400). Only then do CSRF, format checks,
 * session, throttle and argon2 follow.
 *
 * body-parser 2 alone is not enough: it accepts ISO-8859-1, keeps `%FF` and `%C0%AF` as literal
 * text instead of refusing them, turns a repeated field into an array, silently drops `__proto__`,
 * and skips (rather than refuses) a POST of another media type.
 */
export function acceptFormBodies(
  limits: FormLimits,
  options: { uploadPaths?: readonly string[]; larger?: { paths: RegExp; limits: FormLimits } } = {},
): RequestHandler[] {
  // The few paths that take a file read their own multipart body (http/multipart-body.ts), each
  // mounted on its route; the officers' longer forms (the contract form) get limits of their own.
  const uploadPaths = new Set(options.uploadPaths ?? []);
  const standard = formBodyHandlers(limits);
  const larger = options.larger && { paths: options.larger.paths, handlers: formBodyHandlers(options.larger.limits) };
  const handlersFor = (req: Request) => {
    if (req.method !== "POST" || uploadPaths.has(req.path)) return undefined;
    return larger && larger.paths.test(req.path) ? larger.handlers : standard;
  };
  return [0, 1, 2].map((step) => (req: Request, res: Response, next: NextFunction) => {
    const handlers = handlersFor(req);
    return handlers ? handlers[step]!(req, res, next) : next();
  });
}

export type FormLimits = { maxBytes: number; maxFields: number };

/** The three steps for a POST under one set of limits. */
function formBodyHandlers(limits: FormLimits): RequestHandler[] {
  const parse = express.urlencoded({
    extended: false,
    limit: limits.maxBytes,
    parameterLimit: limits.maxFields,
    inflate: false,
    // defaultCharset stays body-parser's utf-8 (its types do not list the option).
    type: FORM_TYPE,
    verify: (_req, _res, buf) => checkFormBytes(buf, limits.maxFields),
  });

  const checkHeaders = (req: Request, _res: Response, next: NextFunction) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limits.maxBytes) return next(badBody(413, "entity-too-large"));
    if (!hasBody(req)) return next();
    const encoding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
    if (encoding !== "identity") return next(badBody(415, "encoding-unsupported"));
    const problem = checkContentType(req.headers["content-type"]);
    if (problem) return next(badBody(415, problem));
    next();
  };

  const checkParsed = (req: Request, _res: Response, next: NextFunction) => {
    if (req.body === undefined) return next();
    const body = req.body as Record<string, unknown>;
    // Defence in depth: checkFormBytes has refused what would not come out as plain strings.
    if (Object.values(body).some((value) => typeof value !== "string")) return next(badBody(400, "field-not-text"));
    next();
  };

  return [checkHeaders, parse, checkParsed];
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");
}

/** undefined when the Content-Type is a urlencoded form in UTF-8 (stated or not), else why not. */
export function checkContentType(header: string | undefined): string | undefined {
  if (header === undefined) return "content-type-missing";
  const [type, ...parameters] = header.split(";");
  if (type!.trim().toLowerCase() !== FORM_TYPE) return "content-type-unsupported";
  for (const parameter of parameters) {
    const eq = parameter.indexOf("=");
    const name = parameter.slice(0, eq === -1 ? undefined : eq).trim().toLowerCase();
    const value = eq === -1 ? "" : parameter.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
    if (name === "charset" && value !== "utf-8") return "charset-unsupported";
  }
  return undefined;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Refuses a raw urlencoded body unless every byte sequence, after percent-decoding, is valid
 * UTF-8 (no overlong `%C0%AF`, no lone `%FF`, no surrogates), every `%` is followed by two hex
 * digits, every field name is a plain identifier, and no field appears twice.
 */
export function checkFormBytes(buf: Buffer, maxFields: number): void {
  if (buf.length === 0) return;
  const seen = new Set<string>();
  let fields = 0;
  for (const pair of splitBytes(buf, 0x26 /* & */)) {
    if (pair.length === 0) continue;
    if (++fields > maxFields) throw badBody(413, "parameters-too-many");
    const eq = pair.indexOf(0x3d /* = */);
    const name = decodeComponent(eq === -1 ? pair : pair.subarray(0, eq));
    if (eq !== -1) decodeComponent(pair.subarray(eq + 1));
    if (!FIELD_NAME.test(name)) throw badBody(400, "field-name");
    if (seen.has(name)) throw badBody(400, "field-repeated");
    seen.add(name);
  }
}

function* splitBytes(buf: Buffer, separator: number): Generator<Buffer> {
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === separator) {
      yield buf.subarray(start, i);
      start = i + 1;
    }
  }
}

/** One name or value: `+` is a space, `%XX` a byte; the bytes must be UTF-8. */
export function decodeComponent(raw: Buffer): string {
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25 /* % */) {
      const hi = hexValue(raw[i + 1]);
      const lo = hexValue(raw[i + 2]);
      if (hi === undefined || lo === undefined) throw badBody(400, "percent-malformed");
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = b === 0x2b /* + */ ? 0x20 : b;
    }
  }
  try {
    return strictUtf8.decode(out.subarray(0, n));
  } catch {
    throw badBody(400, "utf8-invalid");
  }
}

function hexValue(b: number | undefined): number | undefined {
  if (b === undefined) return undefined;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return undefined;
}
