import path from "node:path";
import { performance } from "node:perf_hooks";
import { loopbackAddress, Session } from "./lib/http-client.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, type BenchResult } from "./lib/report.js";
import { seedDatabase } from "./lib/seed.js";
import { scratchDir, startKakunin } from "./lib/servers.js";
import { commitNote, judgeAgainstBound, judgedCommits, levelRows, loadLevels, stopServer } from "./verify.js";
import { measureCommitMs } from "./lib/disk.js";

/**
 * Officers log in (GET /login for the form's token, POST /login) in a closed loop; one attempt in
 * five carries a wrong password, never two in a row for one officer (production locks a username
 * after consecutive failures). The latency is the POST's: one argon2 verification, the session
 * regenerated, the redirect. The bound is the verify benchmark's: raw argon2 verifications.
 */
export function runLogin(options: BenchOptions): Promise<BenchResult> {
  return measure("login", options.smoke, async (result) => {
    const { cores } = options;
    const saturating = 2 * cores;
    const levels = [...new Set(options.concurrencies)].sort((a, b) => a - b);
    const officerCount = options.smoke ? 4 : 32;

    const scratch = scratchDir("login");
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const seeded = await seedDatabase(databasePath, { officers: officerCount, guarantees: 0 });
      const server = await startKakunin(databasePath);
      let peakRssMb: number | null = null;
      let measured;
      try {
        let seq = 0;
        const retrying = new Map<number, Session>();
        const op = async () => {
          const n = seq++;
          const index = n % seeded.officers.length;
          const officer = seeded.officers[index]!;
          // Officer k is used at n = k, k + 32, …; n % 5 === 0 makes every fifth of its attempts wrong.
          const wrong = n % 5 === 0;
          // After a refused attempt the officer tries again in the same browser session, as a person
          // would: its form's session is reused, so refused attempts do not pile up new anonymous
          // sessions against the officer's address (DOS-04). A login starts the next from scratch.
          const session = retrying.get(index) ?? new Session(server.url, loopbackAddress(index));
          retrying.delete(index);
          const csrf = await session.fetchCsrf("/login");
          const began = performance.now();
          const reply = await session.request("POST", "/login", { _csrf: csrf, username: officer.login, password: wrong ? `${officer.password}!` : officer.password }, false);
          const latencyMs = performance.now() - began;
          if (wrong) {
            if (reply.status === 401) retrying.set(index, session);
            return { outcome: reply.status === 401 ? "refused" : `unexpected ${reply.status}`, latencyMs };
          }
          return { outcome: reply.status === 303 && reply.location === "/verify" ? "logged in" : `unexpected ${reply.status}`, latencyMs };
        };
        measured = await loadLevels(server, options, levels, op);
      } finally {
        peakRssMb = await stopServer(server);
      }
      result.rows.push(...levelRows(measured.levels, "logins/s"));
      const commitMs = measureCommitMs();
      // The issue sets login no targets of its own ("like verify"): the verify targets, for comparison.
      judgeAgainstBound(result, measured.levels, { saturating, cores, peakRssMb, rate: "logins/s", expected: ["logged in", "refused"] });
      result.notes.push(
        `an operation is GET /login then POST /login; the latency is the POST's and the rate counts POSTs (4 in 5 with the right password); ` +
        `${officerCount} officers, own loopback address each, a refused officer retrying in the same session; CPU per operation includes the GET`,
        commitNote("login (GET and POST)", judgedCommits(measured.levels), commitMs),
        `bound: raw argon2 verifications, ${2 * cores} in flight in a process of their own, in slices alternating with each level's`,
      );
      result.details = { commitMs, singleMs: measured.singleMs, officerCount, peakRssMb, boundSlices: measured.boundSlices, levels: measured.levels };
    } finally {
      scratch.remove();
    }
  });
}
