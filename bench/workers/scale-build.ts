/**
 * Builds one database of the scale benchmark in a process of its own (its CPU and peak RSS are
 * then its own):  scale-build.ts --db FILE --guarantees N
 * Prints progress lines, then one JSON line: what bench/scale.ts needs of the database.
 */
import { buildScaleDatabase, scaleSizes } from "../lib/scale-data.js";

function option(name: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const built = await buildScaleDatabase(option("db"), scaleSizes(Number(option("guarantees"))), (line) => process.stdout.write(`${line}\n`));
process.stdout.write(JSON.stringify(built) + "\n");
