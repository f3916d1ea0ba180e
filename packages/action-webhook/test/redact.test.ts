import t from "tap";
import { redactUrl } from "@weft/action-webhook";

t.test("redactUrl hides credentials of valid URLs", async (t) => {
  t.equal(
    redactUrl("https://user:pass@example.com/hook?token=abc&x=1"),
    "https://[redacted]:[redacted]@example.com/hook?token=[redacted]&x=[redacted]",
  );
  t.equal(redactUrl("https://example.com/hook"), "https://example.com/hook");
});

t.test("redactUrl shows malformed URLs", async (t) => {
  const cases: Array<[string, string]> = [
    ["http//example", "http//example"],
    ["not a url", "not a url"],
    ["example.com/hook", "example.com/hook"],
  ];
  for (const [input, expected] of cases)
    t.equal(redactUrl(input), expected, input);
});

t.test("redactUrl hides credentials of malformed URLs", async (t) => {
  const cases: Array<[string, string]> = [
    ["http//user:secret@example/hook", "http//[redacted]@example/hook"],
    ["user:p@ss@example", "[redacted]@[redacted]@example"],
    [
      "example/hook?token=abc&x=1",
      "example/hook?token=[redacted]&x=[redacted]",
    ],
    ["http//u:pw@example?key=k", "http//[redacted]@example?key=[redacted]"],
  ];
  for (const [input, expected] of cases) {
    const output = redactUrl(input);
    t.equal(output, expected, input);
    t.notMatch(output, /secret|pw|abc|p@ss/, `${input} leaks no credential`);
  }
});
