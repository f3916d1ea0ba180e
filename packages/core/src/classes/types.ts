/** The types a class property may have. */
export type PropertyType =
  "text" | "text[]" | "int" | "number" | "boolean" | "date" | "uuid" | "object";

export interface PropertyDefinition {
  name: string;
  type: PropertyType;
}

export interface VectorizerBinding {
  /** The vectorizer capability's name, such as `hash`. */
  use: string;
  /** Text properties whose values feed the vectorizer. */
  fields: string[];
}

export interface ClassDefinition {
  name: string;
  properties: PropertyDefinition[];
  vectorizer?: VectorizerBinding;
  /** Length every vector of the class must have; unset, any length is accepted unless the vectorizer fixes one. */
  vectorDimensions?: number;
}
