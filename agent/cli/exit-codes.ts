// Exit codes of the hanfs commands, for scripts (README: Operating). Status follows the health
// verdict, as monitoring plugins do (0 OK, 1 warning, 2 critical); 3 and 4 say the question never reached the agent.

export const EXIT = {
  /** status: healthy; other commands: done. */
  ok: 0,
  /** status: degraded; other commands: the agent refused (its answer says why). */
  degraded: 1,
  refused: 1,
  /** status: failed (a group served by nobody, a self-fenced node, a group failed here). */
  failed: 2,
  /** No agent to ask: no socket, no answer, an unreadable configuration. */
  unreachable: 3,
  /** Not root: the control socket is root's alone. */
  notRoot: 4,
  /** A bad command line (EX_USAGE). */
  usage: 64,
  /** hanfs disk dump: what it read does not verify, a header or a record damaged or not this pair's (EX_DATAERR). */
  dataError: 65,
  /** Any command: the configuration is invalid or unreadable, so a restart cannot help (EX_CONFIG; systemd does not restart on it). */
  config: 78,
} as const;
