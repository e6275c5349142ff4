/**
 * @meridian/core: the hybrid logical clock, the session CRDT and its merge, deltas, version
 * vectors, wire messages and their codec. Pure: no I/O, no timers, no ambient time or randomness.
 */
export * from "./channel.ts";
export * from "./codec.ts";
export * from "./delta.ts";
export * from "./digest.ts";
export * from "./dot.ts";
export * from "./errors.ts";
export * from "./hlc.ts";
export * from "./lifetime.ts";
export * from "./memory-store.ts";
export * from "./messages.ts";
export * from "./operations.ts";
export * from "./ports.ts";
export * from "./purged.ts";
export * from "./register.ts";
export * from "./session.ts";
export * from "./store.ts";
export * from "./typed-emitter.ts";
export * from "./validate.ts";
export * from "./version-vector.ts";
