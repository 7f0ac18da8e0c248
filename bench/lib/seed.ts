import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { systemClock } from "../../src/clock.js";
import { openMigratedDatabase } from "../../src/db/database.js";
import type { Outcome } from "../../src/result.js";
import { createHasher, OWASP_ARGON2 } from "../../src/security/hasher.js";
import { createServices } from "../../src/composition.js";
import { sampleCertificate } from "../../test/support/given.js";

export const BENCH_PASSWORD = "correct horse battery staple mutsu";
export const ORDERER_CODE = "022080";

export type Seeded = {
  officers: { login: string; password: string }[];
  guarantees: { contractNumber: string; authKey: string }[];
};

function unwrap<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new Error(`seeding ${what} was refused: ${JSON.stringify(outcome.problems)}`);
  return outcome.value;
}

/** The certificates of the benchmark: the source document's sample with numbers 02208-000001…. */
export function benchCertificates(count: number, from = 1): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(from + i).padStart(6, "0")}` }));
}

/** The issuer and むつ市, through the same services the admin CLI uses. */
export function seedRegistry(services: ReturnType<typeof createServices>): void {
  if (!services.issuers.findByCode("ejcs")) {
    unwrap(services.issuers.add({ code: "ejcs", name: "東日本建設業保証株式会社", address: "東京都中央区八丁堀2丁目27番10号", representative: "取締役社長 原田 保夫" }, "bench"), "the issuer");
  }
  if (!services.orderers.findByCode(ORDERER_CODE)) unwrap(services.orderers.add({ code: ORDERER_CODE, name: "むつ市" }, "bench"), "the orderer");
}

/**
 * A database with `officers` officers of むつ市 and `guarantees` certificates issued to it, hashed
 * at the service's own argon2 parameters (OWASP's) so that the server verifies at full cost.
 */
export async function seedDatabase(databasePath: string, sizes: { officers: number; guarantees: number }): Promise<Seeded> {
  const db = openMigratedDatabase(databasePath);
  try {
    const hasher = await createHasher(OWASP_ARGON2);
    const services = createServices({ db, clock: systemClock, hasher });
    seedRegistry(services);
    const officers = Array.from({ length: sizes.officers }, (_, i) => ({ login: `bench-${String(i + 1).padStart(4, "0")}`, password: BENCH_PASSWORD }));
    let next = 0;
    await Promise.all(Array.from({ length: availableParallelism() }, async () => {
      while (next < officers.length) {
        const officer = officers[next++]!;
        unwrap(await services.officers.add({ ordererCode: ORDERER_CODE, login: officer.login, displayName: `確認 ${officer.login}`, password: officer.password }, "bench"), officer.login);
      }
    }));
    const issued = sizes.guarantees > 0 ? unwrap(await services.issuance.issue(benchCertificates(sizes.guarantees), { actor: "bench" }), "the certificates") : [];
    return { officers, guarantees: issued.map((g) => ({ contractNumber: g.contractNumber, authKey: g.authKey })) };
  } finally {
    db.close();
  }
}

/** An upper estimate of verifications/s on this machine (every core busy, 1.5× margin), to size
 * the number of benchmark officers so that none of them reaches a throttle. */
export async function generousVerifyRate(): Promise<number> {
  const hasher = await createHasher(OWASP_ARGON2);
  const stored = await hasher.hash("estimate");
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const began = performance.now();
    await hasher.verify(stored, "estimate");
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return (availableParallelism() * 1000 * 1.5) / times[0]!;
}
