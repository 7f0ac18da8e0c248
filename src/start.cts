// The service's entry point (`npm start` runs its compiled form, dist/src/start.cjs).
//
// argon2 runs on libuv's thread pool, whose size libuv reads from UV_THREADPOOL_SIZE once, when the
// pool first starts. The ES module loader starts it while it reads the modules, so the size can only
// be chosen here, in a CommonJS file, before anything is imported. One thread per core: more threads
// only time-slice argon2 and keep 19 MiB each; fewer leave cores idle. At most 8 (the security
// checklist's ceiling): on a large host, or one whose CPU quota Node cannot see, set it explicitly.
import os = require("node:os");

const MAX_DEFAULT_POOL_THREADS = 8;
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(os.availableParallelism(), MAX_DEFAULT_POOL_THREADS));
void import("./server.js");
