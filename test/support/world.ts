import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Clock } from "../../src/clock.js";
import { openMigratedDatabase, type Db } from "../../src/db/database.js";
import { createRepositories, createServices, type Repositories, type ServiceDeps, type Services } from "../../src/composition.js";
import type { Limits } from "../../src/config.js";
import type { NotificationSettings } from "../../src/notifications/mail.service.js";
import type { WebhookSettings } from "../../src/notifications/webhook.service.js";
import { createHasher, type Argon2Params, type Hasher } from "../../src/security/hasher.js";
import { createLoginNameHash } from "../../src/security/keyed-hash.js";

/** The session secret of test worlds (as loadConfig's SESSION_SECRET; ≥ 32 bytes). */
export const TEST_SESSION_SECRET = "kakunin-test-session-secret-0123456789";

/** Real argon2id, cheap enough for a test suite. Production refuses anything below OWASP's floor. */
export const TEST_ARGON2: Argon2Params = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export type TestClock = Clock & { set(iso: string): void; advance(ms: number): void };

export function createTestClock(startIso = "2026-11-25T01:00:00.000Z"): TestClock {
  let current = new Date(startIso).getTime();
  return {
    now: () => new Date(current),
    set: (iso) => { current = new Date(iso).getTime(); },
    advance: (ms) => { current += ms; },
  };
}

/** Counts argon2 calls, to show which paths cost nothing. */
export type CountingHasher = Hasher & { counts: { hash: number; verify: number } };

export function countCalls(inner: Hasher): CountingHasher {
  const counts = { hash: 0, verify: 0 };
  return {
    params: inner.params,
    counts,
    hash: (s) => { counts.hash++; return inner.hash(s); },
    verify: (h, s) => { counts.verify++; return inner.verify(h, s); },
    verifyDummy: (s) => { counts.verify++; return inner.verifyDummy(s); },
    needsRehash: (h) => inner.needsRehash(h),
  };
}

export type World = {
  dir: string;
  databasePath: string;
  db: Db;
  clock: TestClock;
  hasher: CountingHasher;
  services: Services;
  /** The repositories over the same database, for tests that set up or read rows directly. */
  repositories: Repositories;
  close(): void;
};

/** A fresh database file in a temporary folder, migrated, with its own services. */
export async function buildWorld(options: { clock?: TestClock; argon2?: Argon2Params; limits?: Limits; sessionSecret?: string; notifications?: NotificationSettings; webhooks?: WebhookSettings; smtp?: ServiceDeps["smtp"] } = {}): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), "kakunin-test-"));
  const databasePath = path.join(dir, "kakunin.sqlite");
  const db = openMigratedDatabase(databasePath);
  const clock = options.clock ?? createTestClock();
  const hasher = countCalls(await createHasher(options.argon2 ?? TEST_ARGON2));
  const loginNames = createLoginNameHash(options.sessionSecret ?? TEST_SESSION_SECRET);
  const services = createServices({
    db, clock, hasher, loginNames, ...(options.limits ? { limits: options.limits } : {}), ...(options.notifications ? { notifications: options.notifications } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}), ...(options.smtp ? { smtp: options.smtp } : {}),
  });
  return {
    dir, databasePath, db, clock, hasher, services, repositories: createRepositories(db),
    close() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
