import { writeFileSync } from "node:fs";
import path from "node:path";
import { main } from "../../scripts/admin.js";
import { sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";

export type CliRun = { status: number; stdout: string; stderr: string };

export type CliWorld = World & {
  /** Runs `admin --db <this world's database> ...args` in-process. */
  run(args: string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv; stderrIsTTY?: boolean }): Promise<CliRun>;
  /** Writes a file in the world's temporary folder and returns its path. */
  file(name: string, content: string | Buffer): string;
  count(table: string): number;
};

/** A fresh database (through test/support/world.ts) that the CLI is pointed at with --db. */
export async function buildCliWorld(options: Parameters<typeof buildWorld>[0] = {}): Promise<CliWorld> {
  const world = await buildWorld(options);
  return Object.assign(world, {
    async run(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; stderrIsTTY?: boolean } = {}): Promise<CliRun> {
      let stdout = "";
      let stderr = "";
      const status = await main(["--db", world.databasePath, ...args], {
        stdout: { write: (s: string) => { stdout += s; } },
        stderr: { write: (s: string) => { stderr += s; }, ...(options.stderrIsTTY ? { isTTY: true, columns: 80 } : {}) },
        stdin: options.stdin ?? "",
        clock: world.clock,
        hasher: world.hasher,
        env: options.env ?? { NODE_ENV: "test" },
        actor: "test-admin",
      });
      return { status, stdout, stderr };
    },
    file(name: string, content: string | Buffer): string {
      const file = path.join(world.dir, name);
      writeFileSync(file, content);
      return file;
    },
    count(table: string): number {
      return (world.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    },
  });
}

/** The registry rows every issuance needs, added through the CLI itself. */
export async function givenRegistry(world: CliWorld): Promise<void> {
  const runs = [
    await world.run(["issuer", "add", "--code", "ejcs", "--name", "東日本建設業保証株式会社", "--address", "東京都中央区八丁堀2丁目27番10号", "--representative", "取締役社長 原田 保夫"]),
    await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市"]),
  ];
  for (const r of runs) if (r.status !== 0) throw new Error(`given: ${r.stderr}`);
}

/** Issues the given certificates through `issue --json` and returns the printed keys. */
export async function givenIssued(world: CliWorld, rows: Record<string, unknown>[] = [sampleCertificate()]): Promise<{ contractNumber: string; authKey: string }[]> {
  const result = await world.run(["issue", world.file(`given-${Date.now()}-${Math.random()}.json`, JSON.stringify(rows)), "--json"]);
  if (result.status !== 0) throw new Error(`given: issue refused: ${result.stderr}`);
  return result.stdout.trim().split("\n").map((line) => JSON.parse(line) as { contractNumber: string; authKey: string });
}

export const contractNumbers = (from: number, n: number) => Array.from({ length: n }, (_, i) => `02208-${String(from + i).padStart(6, "0")}`);

export { sampleCertificate };
