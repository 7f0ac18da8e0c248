/**
 * The issue benchmark's stand-in for `admin issue <file>` while the admin CLI is not available:
 * the same steps (read the file, parse it, issue through services.issuance) in a fresh process.
 *   issue-services.ts <database> <file>
 * Prints one JSON line: { issued, seconds }.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { systemClock } from "../../src/clock.js";
import { openMigratedDatabase } from "../../src/db/database.js";
import { parseIssuanceFile } from "../../src/guarantees/import-file.js";
import { createHasher, OWASP_ARGON2 } from "../../src/security/hasher.js";
import { createServices } from "../../src/composition.js";

const [databasePath, file] = process.argv.slice(2);
if (!databasePath || !file) throw new Error("usage: issue-services.ts <database> <file>");
const began = performance.now();
const rows = parseIssuanceFile(readFileSync(file), file);
if (!rows.ok) throw new Error(JSON.stringify(rows.problems.slice(0, 3)));
const db = openMigratedDatabase(databasePath);
try {
  const services = createServices({ db, clock: systemClock, hasher: await createHasher(OWASP_ARGON2) });
  const issued = await services.issuance.issue(rows.value, { actor: "bench" });
  if (!issued.ok) throw new Error(JSON.stringify(issued.problems.slice(0, 3)));
  process.stdout.write(JSON.stringify({ issued: issued.value.length, seconds: (performance.now() - began) / 1000 }) + "\n");
} finally {
  db.close();
}
