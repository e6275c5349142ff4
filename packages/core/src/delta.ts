import type { Dot } from "./dot.ts";
import type { SessionState } from "./session.ts";

/**
 * One local write as it travels to peers: the session fragment it changed, and its dot.
 *
 * @remarks Every register in `session` carries a stamp whose dot is `dot`; a delta holds the
 * whole write, so a node that applies it may record `dot` in its version vector.
 */
export interface Delta {
  readonly dot: Dot;
  readonly session: SessionState;
}
