import { describe, expect, it } from "vitest";
import { MAX_DURATION_MS, parseDuration } from "../../../orchestrator/duration.js";

describe("parseDuration", () => {
  it("reads the units people write, and refuses what is not a duration", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("0s")).toBeUndefined();
    expect(parseDuration("soon")).toBeUndefined();
  });

  it("refuses what a timer cannot wait (past 2^31-1 ms it would fire at once, in a loop)", () => {
    expect(parseDuration("596h")).toBeLessThanOrEqual(MAX_DURATION_MS);
    expect(parseDuration("597h")).toBeUndefined();
    expect(parseDuration("600h")).toBeUndefined();
  });
});
