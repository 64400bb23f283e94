// The flowshare command's exit codes (docs/cli.md, Exit codes): one per way a
// command can end, so a script can tell them apart.
export const EXIT = {
  /** Done; for `run`, the run Succeeded. */
  ok: 0,
  /** The run Failed (an action failed), or the service refused what was asked. */
  failed: 1,
  /** The command was called wrongly: an unknown option, a missing argument, a bad value. */
  usage: 2,
  /** The run was not started: a reference without a connection, or the service refused to start it. */
  refused: 3,
  /** Not signed in, the sign-in no longer works, or the machine key is refused. */
  auth: 4,
  /** The service (or the identity provider) could not be reached, or how the run ended is unknown. */
  unreachable: 5,
  /** The run's lease lapsed before it ended: it is TimedOut. */
  timedOut: 6,
  /** The run was cancelled (Ctrl-C, or someone cancelled it). 128 + SIGINT, as shells report Ctrl-C. */
  cancelled: 130,
} as const;
