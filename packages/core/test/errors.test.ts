import t from "tap";
import { WeftError, errorFactory, isWeftError } from "@weft/core";

t.test("errorFactory builds coded errors", async (t) => {
  const codes = { BROKEN: "WEFT_ERR_EXAMPLE_BROKEN" } as const;
  const exampleError = errorFactory(codes);
  const cause = new Error("disk full");

  const error = exampleError(codes.BROKEN, "cannot write", {
    cause,
    details: { path: "/tmp/x" },
    retryable: true,
  });

  t.ok(error instanceof WeftError);
  t.ok(isWeftError(error));
  t.equal(error.code, "WEFT_ERR_EXAMPLE_BROKEN");
  t.equal(error.message, "cannot write");
  t.equal(error.cause, cause);
  t.same(error.details, { path: "/tmp/x" });
  t.equal(error.retryable, true);
  t.equal(exampleError(codes.BROKEN, "x").retryable, false, "default");
});
