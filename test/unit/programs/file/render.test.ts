import { describe, expect, it } from "vitest";
import { dotenvValue, renderFile } from "../../../../programs/file/render.js";
import { SecretValue } from "../../../../programs/secret-value.js";

const entry = (name: string, value: string) => ({ name, value: new SecretValue(value), secret: true });

describe("file rendering", () => {
  it("writes dotenv lines sorted by name, quoting only what needs it", () => {
    const text = renderFile("keys", [entry("B", "plain-value_1.2:3"), entry("A", 'say "hi"\n$HOME\\x\ttab')]);
    expect(text).toBe('A="say \\"hi\\"\\n\\$HOME\\\\x\\ttab"\nB=plain-value_1.2:3\n');
  });

  it("quotes empty-looking and spaced values", () => {
    expect(dotenvValue("")).toBe("");
    expect(dotenvValue("two words")).toBe('"two words"');
    expect(dotenvValue("#comment")).toBe('"#comment"');
  });

  it("pretty-prints the JSON document", () => {
    expect(renderFile("json", [entry("doc", '{"a":1,"b":[true]}')])).toBe('{\n  "a": 1,\n  "b": [\n    true\n  ]\n}\n');
  });
});
