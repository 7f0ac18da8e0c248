import type { Request } from "express";

/** The client's address as Express reads it (honouring `trust proxy`); counted and audited by it. */
export function clientAddress(req: Request): string {
  return req.ip ?? "unknown";
}
