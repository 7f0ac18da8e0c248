import path from "node:path";
import { systemClock } from "../src/clock.js";
import { createServices } from "../src/composition.js";
import { openMigratedDatabase } from "../src/db/database.js";
import { createHasher, OWASP_ARGON2 } from "../src/security/hasher.js";
import { measureCommitMs } from "./lib/disk.js";
import { loopbackAddress, requestApi } from "./lib/http-client.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, round, type BenchResult } from "./lib/report.js";
import { generousVerifyRate, ORDERER_CODE, seedDatabase } from "./lib/seed.js";
import { scratchDir, startKakunin } from "./lib/servers.js";
import { commitNote, judgeAgainstBound, judgedCommits, levelRows, loadLevels, rounds, stopServer, verificationAttempts } from "./verify.js";

/** Failures one client may collect: production allows 10 per client per 15 minutes, as per officer. */
const FAILURES_PER_CLIENT = 6;
/** …and 100 per client address per day: clients share addresses up to this. */
const FAILURES_PER_ADDRESS = 60;

/**
 * API clients POST /api/v1/verifications (bearer tokens, JSON, production throttles, the document's
 * request validation) in a closed loop, in slices alternating with raw argon2 verifications in a
 * process of their own: the same measurement and targets as the form's verify benchmark.
 */
export function runApi(options: BenchOptions): Promise<BenchResult> {
  return measure("api", options.smoke, async (result) => {
    const { cores } = options;
    const saturating = 2 * cores;
    const levels = [...new Set(options.concurrencies)].sort((a, b) => a - b);
    const failShare = options.wrongShare + options.unknownShare;
    const expectedFailures = (await generousVerifyRate()) * levels.length * (options.durationS + options.warmupS + rounds(options)) * failShare;
    const clientCount = Math.max(4, Math.ceil(expectedFailures / FAILURES_PER_CLIENT));
    const addressCount = Math.min(clientCount, Math.max(4, Math.ceil(expectedFailures / FAILURES_PER_ADDRESS)));
    const guaranteeCount = options.smoke ? 4 : 100;

    const scratch = scratchDir("api");
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const seeded = await seedDatabase(databasePath, { officers: 0, guarantees: guaranteeCount });
      const credentials = await addClients(databasePath, clientCount);
      const server = await startKakunin(databasePath);
      let peakRssMb: number | null = null;
      let measured;
      try {
        const clients = await Promise.all(credentials.map(async (c, i) => {
          const localAddress = loopbackAddress(i % addressCount);
          const reply = await requestApi(server.url, localAddress, "POST", "/api/v1/token", {
            authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString("base64")}`, form: { grant_type: "client_credentials" },
          });
          if (reply.status !== 200) throw new Error(`token for ${c.clientId} answered ${reply.status}: ${reply.body}`);
          return { localAddress, authorization: `Bearer ${(JSON.parse(reply.body) as { access_token: string }).access_token}` };
        }));
        const attempts = verificationAttempts(clients.length, seeded.guarantees, options);
        const op = async () => {
          const { index, contractNumber, authKey, right } = attempts.next();
          const client = clients[index]!;
          const reply = await requestApi(server.url, client.localAddress, "POST", "/api/v1/verifications", { authorization: client.authorization, json: { contractNumber, authKey } }, false);
          if (right) return { outcome: reply.status === 201 ? "granted" : `unexpected ${reply.status}` };
          return { outcome: reply.status === 422 ? "refused" : reply.status === 429 ? "throttled" : `unexpected ${reply.status}` };
        };
        measured = await loadLevels(server, options, levels, op);
        result.details.maxFailuresPerClient = attempts.maxFailures();
      } finally {
        peakRssMb = await stopServer(server);
      }

      result.rows.push(...levelRows(measured.levels, "verifications/s"));
      const commitMs = measureCommitMs();
      judgeAgainstBound(result, measured.levels, {
        saturating, cores, peakRssMb, rate: "verifications/s", expected: ["granted", "refused"],
        why: "every right key must be granted with 201, every wrong one refused with 422",
      });
      result.notes.push(
        `bound: raw argon2id m=19456,t=2,p=1, ${2 * cores} in flight in a process of its own (UV_THREADPOOL_SIZE=${cores}), measured in ${rounds(options)} slice(s) ` +
        `alternating with each level's; one verification alone ${round(measured.singleMs, 1)} ms`,
        `${clientCount} API clients over ${addressCount} loopback addresses, one token each, ${guaranteeCount} certificates; attempts: ${Math.round((1 - failShare) * 100)} % right key, ` +
        `${Math.round(options.wrongShare * 100)} % wrong key, ${Math.round(options.unknownShare * 100)} % unknown number; production throttles, at most ${result.details.maxFailuresPerClient} failures per client`,
        commitNote("verification", judgedCommits(measured.levels), commitMs),
      );
      result.details = { ...result.details, commitMs, singleMs: measured.singleMs, clientCount, addressCount, guaranteeCount, peakRssMb, boundSlices: measured.boundSlices, levels: measured.levels.map(({ ...l }) => l) };
    } finally {
      scratch.remove();
    }
  });
}

/** `count` API clients of むつ市 through the service the CLI uses; their secrets as printed once. */
async function addClients(databasePath: string, count: number): Promise<{ clientId: string; clientSecret: string }[]> {
  const db = openMigratedDatabase(databasePath);
  try {
    const services = createServices({ db, clock: systemClock, hasher: await createHasher(OWASP_ARGON2) });
    return Array.from({ length: count }, (_, i) => {
      const added = services.apiClients.add({ ordererCode: ORDERER_CODE, name: `bench-${i + 1}` }, "bench");
      if (!added.ok) throw new Error(`bench: cannot add an API client: ${JSON.stringify(added.problems)}`);
      return { clientId: added.value.client.clientId, clientSecret: added.value.clientSecret };
    });
  } finally {
    db.close();
  }
}
