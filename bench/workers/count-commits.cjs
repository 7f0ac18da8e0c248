// Preloaded (--require, CommonJS: an ES module preload would start libuv's pool before
// src/start.cts sizes it) into the server under test: counts SQLite commits that wrote something
// (autocommit writes and outermost transactions that changed a row), because each one is a WAL write
// on the event loop and, unless made unsynced (the throttle's reservation), an fsync waited for there.
// On SIGUSR2 it writes { commits } to KAKUNIN_BENCH_COMMITS_FILE. Counting adds a function call per
// statement; nothing else changes.
const { writeFileSync } = require("node:fs");

const file = process.env.KAKUNIN_BENCH_COMMITS_FILE;
if (file) {
  const Database = require("better-sqlite3");
  let commits = 0;
  // Whether the transaction under way has changed a row: one that changed nothing commits without an fsync.
  let dirty = false;

  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function countingPrepare(...args) {
    const statement = prepare.apply(this, args);
    if (!statement.reader) {
      const db = this;
      const run = statement.run;
      statement.run = function countingRun(...params) {
        const autocommit = !db.inTransaction;
        const result = run.apply(this, params);
        if (result.changes > 0) {
          if (autocommit) commits++;
          else dirty = true;
        }
        return result;
      };
    }
    return statement;
  };

  const transaction = Database.prototype.transaction;
  Database.prototype.transaction = function countingTransaction(fn) {
    const db = this;
    const wrapped = transaction.call(this, fn);
    const counted = (variant) =>
      function (...args) {
        const outermost = !db.inTransaction;
        if (outermost) dirty = false;
        const result = variant.apply(this, args);
        if (outermost && dirty) commits++;
        return result;
      };
    const outer = counted(wrapped);
    for (const name of ["default", "deferred", "immediate", "exclusive"]) outer[name] = counted(wrapped[name]);
    return outer;
  };

  process.on("SIGUSR2", () => {
    try {
      writeFileSync(file, JSON.stringify({ commits }));
    } catch {
      // the benchmark reports the figure as missing
    }
  });
}
