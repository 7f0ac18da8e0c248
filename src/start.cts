// The service's entry point (`npm start` runs its compiled form, dist/src/start.cjs).
//
// argon2 runs on libuv's thread pool, whose size libuv reads from UV_THREADPOOL_SIZE once, when the
// pool first starts. The ES module loader starts it while it reads the modules, so the size can only
// be chosen here, in a CommonJS file, before anything is imported. One thread per core: more threads
// only time-slice argon2 and keep 19 MiB each; fewer leave cores idle.
import os = require("node:os");

process.env.UV_THREADPOOL_SIZE ??= String(os.availableParallelism());
void import("./server.js");
