// The size of libuv's pool, where argon2 hashes run: one thread per core, at most 8 (more threads
// only time-slice argon2 and hold 19 MiB each; fewer leave cores idle). An explicit
// UV_THREADPOOL_SIZE wins (set it under a CPU quota, which Node cannot see). Loaded before any ES
// module by the service's entry (src/start.cts) and preloaded by `npm run admin` (`node --require`).
const os = require("node:os");

const MAX_DEFAULT_POOL_THREADS = 8;
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(os.availableParallelism(), MAX_DEFAULT_POOL_THREADS));
