// Preloaded (`node --require`) by `npm run admin` and `npm run demo`: sizes libuv's pool, where
// argon2 hashes run, to the core count (at most 8) before tsx's ES module loader starts the pool
// with Node's default of 4. The rule is the service's (src/start.cts); an explicit
// UV_THREADPOOL_SIZE wins.
const os = require("node:os");

const MAX_DEFAULT_POOL_THREADS = 8;
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(os.availableParallelism(), MAX_DEFAULT_POOL_THREADS));
