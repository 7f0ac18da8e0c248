// Preloaded (--import) into every process the benchmark starts: at exit it writes the process's
// peak resident set (getrusage ru_maxrss) to KAKUNIN_BENCH_RSS_FILE. Nothing else changes.
import { writeFileSync } from "node:fs";

const file = process.env.KAKUNIN_BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, maxRssKb: process.resourceUsage().maxRSS }));
    } catch {
      // the benchmark reports the figure as missing
    }
  });
}
