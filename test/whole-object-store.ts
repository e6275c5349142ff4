import { type MeridianClient, SessionDeletedError, SessionNotFoundError } from "@meridian/client";
import session, { type SessionData } from "express-session";

type Callback = (err?: unknown) => void;

/**
 * The store design that loses updates, for side-by-side tests: every save writes the whole
 * session object (`PUT`), as most stores do (connect-redis `SET`), whatever the request changed.
 */
export class WholeObjectStore extends session.Store {
  constructor(private readonly client: MeridianClient) {
    super();
  }

  override get(sid: string, callback: (err: unknown, s?: SessionData | null) => void): void {
    this.client.get(sid).then(
      (s) => callback(null, s.data as unknown as SessionData),
      (e: unknown) =>
        e instanceof SessionNotFoundError || e instanceof SessionDeletedError
          ? callback(null, null)
          : callback(e),
    );
  }

  override set(sid: string, sess: SessionData, callback?: Callback): void {
    const data = JSON.parse(JSON.stringify(sess)) as Record<string, unknown>;
    this.client.put(sid, { data, ttl: 3600 }).then(
      () => callback?.(),
      (e: unknown) => callback?.(e),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.client.delete(sid).then(
      () => callback?.(),
      (e: unknown) => callback?.(e),
    );
  }
}
