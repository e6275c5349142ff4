/**
 * A Node-style callback.
 *
 * @remarks `err` is null on success.
 */
export type NodeCallback<T> = (err: unknown, value?: T) => void;

/**
 * Serves a store method both ways: calls `callback` when given, and returns a promise.
 *
 * @remarks With a callback the promise never rejects: the callback gets the error, and
 * express-session and @fastify/session ignore the returned promise, so a rejection there would be
 * an unhandled one. The callback runs on a later tick, outside the promise chain, so an exception
 * it throws surfaces as Node's callback APIs surface them rather than turning into a second call.
 */
export function settle<T>(
  work: Promise<T>,
  callback: NodeCallback<T> | undefined,
): Promise<T | undefined> {
  if (callback === undefined) return work;
  return work.then(
    (value) => {
      process.nextTick(() => callback(null, value));
      return value;
    },
    (err: unknown) => {
      process.nextTick(() => callback(err));
      return undefined;
    },
  );
}
