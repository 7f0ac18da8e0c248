// Preloaded (--require: CommonJS leaves libuv's pool to be sized by src/start.cts) into every
// process the benchmark starts: at exit it writes the process's peak resident set (getrusage ru_maxrss) and CPU time to KAKUNIN_BENCH_RSS_FILE. Nothing else changes.
const { writeFileSync } = require("node:fs");

const file = process.env.KAKUNIN_BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    try {
      const usage = process.resourceUsage();
      writeFileSync(file, JSON.stringify({ pid: process.pid, maxRssKb: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }));
    } catch {
      // the benchmark reports the figure as missing
    }
  });
}
