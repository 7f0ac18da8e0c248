import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The project root: the nearest folder above this file holding package.json, so that source and
 * compiled trees resolve views/ and db/ alike. */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();
export const migrationsDir = path.join(projectRoot, "db", "migrations");
export const viewsDir = path.join(projectRoot, "views");
export const publicDir = path.join(projectRoot, "views", "public");
export const defaultDatabasePath = path.join(projectRoot, "data", "kakunin.sqlite");
export const apiDocumentPath = path.join(projectRoot, "docs", "openapi.yaml");
