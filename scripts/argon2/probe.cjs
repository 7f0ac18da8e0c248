"use strict";
/**
 * Proves one argon2 build correct, in a child process of its own (a bad build may crash on load,
 * and a .node file loaded here can never be unloaded). Reads a JSON request on stdin, writes one
 * JSON result on stdout:
 *
 *   request: { moduleDir, expectBinary, references?: [{ password, phc }], wrongPassword,
 *              produce?: string[], fixedSaltHex, service: { memoryCost, timeCost, parallelism },
 *              timingRuns? }
 *   result:  { ok, loaded, checks: [{ name, ok, detail? }], produced: [{ password, phc }],
 *              fixedSaltHashHex, verifyMs }
 *
 * Plain CommonJS: it runs during `npm install`, before TypeScript or tsx matter.
 */
const { realpathSync } = require("node:fs");
const path = require("node:path");
const { performance } = require("node:perf_hooks");

/** RFC 9106 section 5: 32 x 0x01 password, 16 x 0x02 salt, 8 x 0x03 secret, 12 x 0x04 data, m=32, t=3, p=4. */
const RFC9106 = [
  { name: "RFC 9106 5.1 argon2d", type: 0, tag: "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb" },
  { name: "RFC 9106 5.2 argon2i", type: 1, tag: "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8" },
  { name: "RFC 9106 5.3 argon2id", type: 2, tag: "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659" },
];

/** node-argon2's own test vectors (its test.cjs): the library defaults m=64 MiB, t=3, p=4 and a PHC string. */
const LIBRARY_VECTORS = [
  { name: "node-argon2 argon2id", options: {}, phc: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$rBWULD5jOGpQy32rLvGcmvQMVqIVNAmrCtekWvUA8bw" },
  { name: "node-argon2 with secret", options: { secret: Buffer.alloc(16, "secret") }, phc: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$8dZyo1MdHgdzBm+VU7+tyW06dUO7B9FyaPImH5ejVOU" },
  { name: "node-argon2 with associated data", options: { associatedData: Buffer.alloc(16, "ad") }, phc: "$argon2id$v=19$m=65536,t=3,p=4,data=YWRhZGFkYWRhZGFkYWRhZA$c2FsdHNhbHRzYWx0c2FsdA$TEIIM4GBSUxvMLolL9ePXYP5G/qcr0vywQqqm/ILvsM" },
];

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function main() {
  const request = await readStdin();
  const checks = [];
  const check = (name, ok, detail) => checks.push(detail === undefined ? { name, ok: Boolean(ok) } : { name, ok: Boolean(ok), detail });
  const moduleDir = path.resolve(request.moduleDir);

  // Load exactly the binary under test: node-gyp-build would silently fall back to a prebuilt one.
  const gypBuild = require(require.resolve("node-gyp-build", { paths: [moduleDir] }));
  const loaded = gypBuild.path(moduleDir);
  check("loads the binary under test", realpathSync(loaded) === realpathSync(request.expectBinary), loaded);
  const argon2 = require(moduleDir);

  for (const vector of RFC9106) {
    const tag = await argon2.hash(Buffer.alloc(32, 1), {
      raw: true, type: vector.type, version: 0x13, memoryCost: 32, timeCost: 3, parallelism: 4, hashLength: 32,
      salt: Buffer.alloc(16, 2), secret: Buffer.alloc(8, 3), associatedData: Buffer.alloc(12, 4),
    });
    check(vector.name, tag.toString("hex") === vector.tag);
  }
  const salt = Buffer.alloc(16, "salt");
  // The parameter order inside the PHC string changed across releases (m,t,p / m,p,t): compare
  // the tag, and verify the published string as it stands.
  const tagOf = (phc) => phc.slice(phc.lastIndexOf("$") + 1);
  for (const vector of LIBRARY_VECTORS) {
    const produced = await argon2.hash("password", { salt, ...vector.options });
    check(`${vector.name}: same tag`, tagOf(produced) === tagOf(vector.phc));
    check(`${vector.name}: verifies the published string`, await argon2.verify(vector.phc, "password", vector.options.secret ? { secret: vector.options.secret } : {}));
  }

  const service = { type: argon2.argon2id, ...request.service };
  for (const reference of request.references ?? []) {
    check(`verifies a reference hash (${reference.phc.slice(0, 32)}…)`, await argon2.verify(reference.phc, reference.password));
    check("refuses the reference hash with a wrong password", !(await argon2.verify(reference.phc, request.wrongPassword)));
  }
  const produced = [];
  for (const password of request.produce ?? []) produced.push({ password, phc: await argon2.hash(password, service) });
  const fixed = await argon2.hash("kakunin-fixed-salt-check", { ...service, raw: true, salt: Buffer.from(request.fixedSaltHex, "hex") });

  let verifyMs;
  const runs = request.timingRuns ?? 0;
  if (runs > 0) {
    const phc = await argon2.hash("timing", service);
    await argon2.verify(phc, "timing");
    const times = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await argon2.verify(phc, "timing");
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    verifyMs = times[Math.floor(times.length / 2)];
  }

  const result = { ok: checks.every((c) => c.ok), loaded, checks, produced, fixedSaltHashHex: fixed.toString("hex"), verifyMs };
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ ok: false, checks: [{ name: "probe", ok: false, detail: String(error && error.stack || error) }] }));
});
