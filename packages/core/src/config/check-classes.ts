import type { ClassDefinition } from "../classes/types.js";
import { ErrorCode } from "../errors.js";
import { joinPath, type ConfigProblem } from "./config-problem.js";

/** Checks what the class schema cannot: unique names and vectorizer fields that exist and hold text. */
export function checkClasses(
  classes: ClassDefinition[],
  problems: ConfigProblem[],
): ClassDefinition[] {
  const names = new Set<string>();

  classes.forEach((definition, i) => {
    const path = joinPath("classes", i);
    if (typeof definition?.name !== "string") return;
    if (names.has(definition.name)) {
      problems.push({
        path: joinPath(path, "name"),
        code: ErrorCode.CLASS_INVALID,
        message: `class ${definition.name} is defined twice`,
      });
    }
    names.add(definition.name);

    const properties = new Map(
      (definition.properties ?? []).map((property) => [
        property.name,
        property.type,
      ]),
    );
    if (properties.size !== (definition.properties ?? []).length) {
      problems.push({
        path: joinPath(path, "properties"),
        code: ErrorCode.CLASS_INVALID,
        message: `class ${definition.name} names a property twice`,
      });
    }
    (definition.vectorizer?.fields ?? []).forEach((field, j) => {
      const type = properties.get(field);
      if (type === "text" || type === "text[]") return;
      problems.push({
        path: joinPath(joinPath(joinPath(path, "vectorizer"), "fields"), j),
        code: ErrorCode.CLASS_INVALID,
        message: type
          ? `vectorizer field ${field} of class ${definition.name} is ${type}; only text and text[] properties can be vectorized`
          : `vectorizer field ${field} is not a property of class ${definition.name}`,
      });
    });
  });
  return classes;
}
