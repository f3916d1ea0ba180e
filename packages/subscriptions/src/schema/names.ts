import type { ClassDefinition, PropertyDefinition } from "@weft/core";

/** Fields the plugin adds to every object type, next to the class's properties. */
export const objectFieldNames = new Set([
  "id",
  "_vector",
  "_version",
  "_updatedAt",
]);

/** Fields of a `where` input that combine clauses instead of naming a property. */
export const combinatorNames = new Set(["and", "or", "not"]);

/** Fields of a `<Class>Change` type other than the object itself. */
export const changeFieldNames = new Set([
  "type",
  "previous",
  "seq",
  "_metadata",
]);

/** The GraphQL field names generated for one class. */
export interface ClassFieldNames {
  className: string;
  /** Field of `<Class>Change` that contains the object: the class name in lower camel case. */
  object: string;
  /** Subscription root field, such as `productChanges`. */
  changes: string;
  /** Query root field that gets one object by id, such as `product`. */
  get: string;
  /** Query root field that lists a page of objects, such as `productList`. */
  list: string;
  /** Query root field of vector similarity, such as `productNearVector`. */
  nearVector: string;
  /** Query root field of text similarity; present only for classes with a vectorizer. */
  nearText?: string;
}

/** Lower-cases the first letter: `Product` becomes `product`. */
export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Derives the root field names of one class. */
export function classFieldNames(definition: ClassDefinition): ClassFieldNames {
  const base = lowerFirst(definition.name);
  return {
    className: definition.name,
    object: changeFieldNames.has(base) ? "object" : base,
    changes: `${base}Changes`,
    get: base,
    list: `${base}List`,
    nearVector: `${base}NearVector`,
    ...(definition.vectorizer ? { nearText: `${base}NearText` } : {}),
  };
}

/**
 * Tells why a property cannot be a field of the object type, or undefined
 * when it can. GraphQL reserves names that start with `__`.
 */
export function objectFieldConflict(
  property: PropertyDefinition,
): string | undefined {
  if (property.name.startsWith("__")) {
    return "GraphQL reserves names that start with __";
  }
  if (objectFieldNames.has(property.name)) {
    return `the plugin adds a field named ${property.name} to every object type`;
  }
  return undefined;
}
