import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ChannelAnswer,
  type ChannelCall,
  channelFrame,
  DecodeError,
  decodeChannelAnswers,
  decodeChannelCalls,
  encodeChannelAnswers,
  encodeChannelCall,
  encodeChannelCalls,
  packValue,
} from "../src/index.ts";
import { fcSeed } from "./seed.ts";

const idArb = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const bodyArb = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
);
const callArb: fc.Arbitrary<ChannelCall> = fc
  .record({
    id: idArb,
    method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE" as const),
    target: fc.string({ maxLength: 40 }).map((s) => `/v1/${s}`),
    body: bodyArb,
  })
  .map(({ body, ...c }) => (body === undefined ? c : { ...c, body }));
const answerArb: fc.Arbitrary<ChannelAnswer> = fc
  .record({
    id: idArb,
    status: fc.integer({ min: 100, max: 599 }),
    body: bodyArb,
    version: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  })
  .map(({ body, version, ...a }) => ({
    ...a,
    ...(body === undefined ? {} : { body }),
    ...(version === undefined ? {} : { version }),
  }));

describe("client channel frames", () => {
  it("round-trip batches of calls and of answers", () => {
    fc.assert(
      fc.property(
        fc.array(callArb, { minLength: 1, maxLength: 40 }),
        fc.array(answerArb, { minLength: 1, maxLength: 20 }),
        (calls, answers) => {
          expect(decodeChannelCalls(encodeChannelCalls(calls))).toEqual(calls);
          const framed = channelFrame(calls.map(encodeChannelCall));
          expect(Buffer.from(framed).equals(Buffer.from(encodeChannelCalls(calls)))).toBe(true);
          expect(decodeChannelAnswers(encodeChannelAnswers(answers))).toEqual(answers);
        },
      ),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("refuses malformed frames with DecodeError only", () => {
    const bad: unknown[] = [
      [],
      {},
      [[1, "GET"]],
      [[1, "TRACE", "/v1/sessions"]],
      [[-1, "GET", "/v1/sessions"]],
      [[1.5, "GET", "/v1/sessions"]],
      [["1", "GET", "/v1/sessions"]],
      [[1, "GET", "v1/sessions"]],
      [[1, "GET", `/${"a".repeat(9000)}`]],
      [[1, "GET", "/v1/sessions", {}, "extra"]],
      new Array(4097).fill([1, "GET", "/healthz"]),
    ];
    for (const frame of bad) {
      expect(() => decodeChannelCalls(packValue(frame))).toThrow(DecodeError);
    }
    expect(() => decodeChannelAnswers(packValue([[1, 99, null, null]]))).toThrow(DecodeError);
    expect(() => decodeChannelAnswers(packValue([[1, 200, null, 7]]))).toThrow(DecodeError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const decode of [decodeChannelCalls, decodeChannelAnswers]) {
          try {
            decode(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        }
      }),
      { numRuns: 2000, seed: fcSeed() },
    );
  });
});
