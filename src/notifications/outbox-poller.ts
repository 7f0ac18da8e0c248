import type { Logger } from "../logger.js";

/** How often an idle sender looks for due rows (one indexed query). */
export const IDLE_POLL_MS = 2_000;

export type OutboxPoller = {
  start(): void;
  /** Delivers every row due now, one at a time; resolves with how many were delivered. A pass
   * already running is joined, never run twice at once. */
  deliverDue(): Promise<number>;
  /** Stops polling, lets `onStop` cut short what is in hand, and waits for the pass to end. */
  stop(): Promise<void>;
};

/**
 * The loop both outbox channels (mail, webhooks) run: one pass at a time, then a pause of
 * `idlePollMs`; a pass that throws (a database busy or full) is logged and the next tries again.
 * Timers are unref'd: they never keep the process alive. `deliver` checks `isStopped()` between rows.
 */
export function createOutboxPoller(deps: {
  deliver: (isStopped: () => boolean) => Promise<number>;
  logger: Logger;
  /** The log line of a failed pass, naming the channel. */
  failure: string;
  idlePollMs?: number;
  /** At stop, before the pass in hand is waited for (to cut it short). */
  onStop?: () => void;
  /** At stop, once the pass has ended (to close a connection). */
  afterStop?: () => void;
}): OutboxPoller {
  const { deliver, logger, failure, idlePollMs = IDLE_POLL_MS, onStop, afterStop } = deps;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<number> | undefined;
  let started = false;
  let stopped = false;
  const isStopped = () => stopped;

  const deliverDue = () => (pass ??= deliver(isStopped).finally(() => { pass = undefined; }));

  const tick = async () => {
    try {
      await deliverDue();
    } catch (error) {
      logger.error({ err: error }, failure);
    }
    if (!stopped) timer = setTimeout(tick, idlePollMs).unref();
  };

  return {
    start() {
      if (started) return;
      started = true;
      timer = setTimeout(tick, 0).unref();
    },
    deliverDue,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      onStop?.();
      await pass;
      afterStop?.();
    },
  };
}
