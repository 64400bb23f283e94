// Deadlines for table requests without an AbortController and a timer each:
// Node makes every AbortSignal dear (a transferable object), and a query is
// over in a millisecond. The requests that start within one short window
// share a signal, aborted `timeoutMs` after the window closed, so each still
// misses its deadline no sooner than `timeoutMs` after it started, and at
// most one window later.
import { setMaxListeners } from 'node:events';

interface Window {
  controller: AbortController;
  closesAt: number;
  timer: NodeJS.Timeout;
  inFlight: number;
}

export class SharedDeadlines {
  private open: Window | undefined;
  private readonly windowMs: number;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Well below the deadline, so that a window's requests are all past theirs when it fires.
    this.windowMs = Math.max(1, Math.min(100, Math.floor(timeoutMs / 10)));
  }

  /** A signal that aborts once the request starting now has had `timeoutMs`; `release` when it settles. */
  take(): { signal: AbortSignal; release: () => void } {
    const now = this.now();
    let window = this.open;
    if (!window || now >= window.closesAt) {
      if (window?.inFlight === 0) clearTimeout(window.timer);
      window = this.open = this.openWindow(now);
    }
    window.inFlight++;
    const taken = window;
    return {
      signal: taken.controller.signal,
      release: () => {
        // A closed window with nothing left in flight needs its timer no more.
        if (--taken.inFlight === 0 && taken !== this.open) clearTimeout(taken.timer);
      },
    };
  }

  private openWindow(now: number): Window {
    const controller = new AbortController();
    // Every request in the window listens on it (the SDK does): not a leak.
    setMaxListeners(0, controller.signal);
    const closesAt = now + this.windowMs;
    const timer = setTimeout(() => controller.abort(), closesAt - now + this.timeoutMs);
    timer.unref();
    return { controller, closesAt, timer, inFlight: 0 };
  }
}
