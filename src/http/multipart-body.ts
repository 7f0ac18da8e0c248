import busboy from "busboy";
import type { NextFunction, Request, Response } from "express";
import { HttpError } from "./http-error.js";

/** A refused upload, with the status that says why (400, 413 or 415). */
function badUpload(status: 400 | 413 | 415, code: string): HttpError {
  return new HttpError(status, code, { detail: `upload refused: ${code}` });
}

/** The one file of an upload: what the browser called it and its bytes. */
export type Upload = { filename: string; bytes: Buffer };

export type UploadLimits = { maxFileBytes: number; maxFields: number; maxBodyBytes: number };

/** The largest text field an upload form sends: the CSRF token. */
const MAX_FIELD_BYTES = 256;

/**
 * A multipart/form-data body holding exactly one file in `fileField` and, besides it, only the
 * named text fields (the CSRF token among them), each once. Read with busboy under its limits: the
 * declared size first (413), the media type (415), then the file's bytes, the number of parts and
 * of fields (413), and a part of another name, a repeated one or a second file (400). On success
 * `req.body` holds the text fields (so csrf-sync finds `_csrf` where it looks for it) and
 * `res.locals.upload` the file; the body is never written to disk.
 */
export function readUpload(options: { fileField: string; fields: readonly string[]; limits: UploadLimits }) {
  const { fileField, limits } = options;
  const allowed = new Set(options.fields);

  return function readUpload(req: Request, res: Response, next: NextFunction): void {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limits.maxBodyBytes) return next(badUpload(413, "entity-too-large"));
    const encoding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
    if (encoding !== "identity") return next(badUpload(415, "encoding-unsupported"));
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "multipart/form-data") return next(badUpload(415, "content-type-unsupported"));

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: "utf8",
        limits: {
          files: 1, fileSize: limits.maxFileBytes, fields: limits.maxFields, parts: limits.maxFields + 1,
          fieldSize: MAX_FIELD_BYTES, fieldNameSize: 32, headerPairs: 20,
        },
      });
    } catch {
      // No boundary, or a malformed Content-Type.
      return next(badUpload(400, "multipart-malformed"));
    }

    const body: Record<string, string> = Object.create(null);
    let file: { filename: string; chunks: Buffer[] } | undefined;
    let received = 0;
    let settled = false;
    const fail = (error: HttpError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      // Node discards the rest of the request once the refusal has been answered.
      next(error);
    };

    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBodyBytes) fail(badUpload(413, "entity-too-large"));
    });
    parser.on("field", (name, value, info) => {
      if (!allowed.has(name) || name in body) return fail(badUpload(400, "field-name"));
      if (info.valueTruncated || info.nameTruncated) return fail(badUpload(413, "field-too-long"));
      body[name] = value;
    });
    parser.on("file", (name, stream, info) => {
      if (name !== fileField || file !== undefined) {
        stream.resume();
        return fail(badUpload(400, "file-field"));
      }
      const chunks: Buffer[] = [];
      file = { filename: info.filename ?? "", chunks };
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => fail(badUpload(413, "file-too-large")));
    });
    parser.on("partsLimit", () => fail(badUpload(413, "parts-too-many")));
    parser.on("filesLimit", () => fail(badUpload(413, "files-too-many")));
    parser.on("fieldsLimit", () => fail(badUpload(413, "fields-too-many")));
    parser.on("error", () => fail(badUpload(400, "multipart-malformed")));
    parser.on("close", () => {
      if (settled) return;
      if (file === undefined) return fail(badUpload(400, "file-missing"));
      settled = true;
      req.body = { ...body };
      res.locals.upload = { filename: file.filename, bytes: Buffer.concat(file.chunks) } satisfies Upload;
      next();
    });
    req.pipe(parser);
  };
}
