/**
 * @meridian/session-store: `MeridianStore`, a drop-in store for express-session and
 * @fastify/session on top of the meridian SDK, whose `set` sends only the fields a request
 * changed.
 */
export type { FieldSerializer, SessionRecord } from "./session-fields.ts";
export type { NodeCallback } from "./settle.ts";
export { MeridianStore } from "./meridian-store.ts";
export type { MeridianStoreOptions } from "./store-options.ts";
