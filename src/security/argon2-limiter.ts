import type { Hasher } from "./hasher.js";

/** No argon2 slot free and the queue full: the request gets 503 with Retry-After, and no argon2 work. */
export class Argon2BusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("argon2 is at capacity");
  }
}

export type Argon2Limits = { concurrency: number; queue: number; retryAfterSeconds: number };

export type LimitedHasher = Hasher & { readonly load: () => { running: number; waiting: number } };

/**
 * Caps concurrent argon2 work. Each hash holds ~19 MiB and a libuv pool thread (shared with fs
 * and dns) for tens of milliseconds, so a flood of logins could exhaust memory and starve every
 * other request. At most `concurrency` are handed to the pool at once (which runs as many as it has
 * threads and holds the rest without memory) and `queue` wait here; anything
 * beyond is refused at once, before it costs anything.
 */
export function limitArgon2(inner: Hasher, limits: Argon2Limits): LimitedHasher {
  let running = 0;
  const waiting: (() => void)[] = [];

  function acquire(): Promise<void> {
    if (running < limits.concurrency) {
      running++;
      return Promise.resolve();
    }
    if (waiting.length >= limits.queue) return Promise.reject(new Argon2BusyError(limits.retryAfterSeconds));
    return new Promise((resolve) => waiting.push(resolve));
  }

  function release(): void {
    const next = waiting.shift();
    if (next) next(); // the slot passes straight to the next in line
    else running--;
  }

  async function limited<T>(work: () => Promise<T>): Promise<T> {
    await acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  return {
    params: inner.params,
    hash: (secret) => limited(() => inner.hash(secret)),
    verify: (storedHash, secret) => limited(() => inner.verify(storedHash, secret)),
    verifyDummy: (secret) => limited(() => inner.verifyDummy(secret)),
    needsRehash: (storedHash) => inner.needsRehash(storedHash),
    load: () => ({ running, waiting: waiting.length }),
  };
}
