import { readdirSync, readFileSync } from "node:fs";
import { loopbackAddress, Session } from "./http-client.js";

/**
 * Logs every officer in and reads its /verify form token. Officer i connects from loopback address
 * i % `addresses` (all of them apart by default), so that per-address throttles see several
 * offices; fewer addresses than officers keep the number of open connections down.
 */
export async function loginOfficers(url: URL, officers: { login: string; password: string }[], concurrency = 4, addresses = officers.length): Promise<Session[]> {
  const sessions: Session[] = new Array(officers.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, officers.length) }, async () => {
    while (next < officers.length) {
      const index = next++;
      const officer = officers[index]!;
      const session = new Session(url, loopbackAddress(index % addresses));
      const reply = await session.login(officer.login, officer.password);
      if (reply.status !== 303 || reply.location !== "/verify") throw new Error(`login of ${officer.login} answered ${reply.status} ${reply.location ?? ""}`);
      await session.fetchCsrf("/verify");
      sessions[index] = session;
    }
  }));
  return sessions;
}

/** user+system CPU seconds a process has used so far (Linux /proc), or NaN elsewhere. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] and [12] are utime and stime (fields 14 and 15 of proc(5)), in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds of a process's main thread (its event loop: JavaScript and the synchronous
 * SQLite calls) and of all its other threads together (the libuv pool, i.e. argon2, and V8's helpers). */
export function threadCpuSecondsOf(pid: number): { main: number; others: number } {
  const ticks = (file: string) => {
    const stat = readFileSync(file, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const seconds = ticks(`/proc/${pid}/task/${tid}/stat`);
      if (Number(tid) === pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return { main: NaN, others: NaN };
  }
}

export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
