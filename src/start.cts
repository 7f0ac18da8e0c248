// The service's entry point (`npm start` runs its compiled form, dist/src/start.cjs).
//
// libuv reads UV_THREADPOOL_SIZE once, when its pool first starts, and the ES module loader starts
// it while it reads the modules: so the size is set here, in CommonJS, before anything is imported,
// by the one rule the admin CLI preloads too (scripts/pool-size.cjs).
import fs = require("node:fs");
import path = require("node:path");

let root = __dirname;
while (!fs.existsSync(path.join(root, "package.json")) && path.dirname(root) !== root) root = path.dirname(root);
require(path.join(root, "scripts", "pool-size.cjs"));
void import("./server.js");
