import type { Db } from "../db/database.js";

export function createHealthRepository(db: Db) {
  const ping = db.prepare("SELECT 1");
  return {
    /** Throws when the database cannot be read (closed, damaged, its disk gone). */
    ping: () => void ping.get(),
  };
}

export type HealthRepository = ReturnType<typeof createHealthRepository>;
