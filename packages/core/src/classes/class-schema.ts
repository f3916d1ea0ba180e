import { Type, type Static } from "@sinclair/typebox";

export const propertyTypes = [
  "text",
  "text[]",
  "int",
  "number",
  "boolean",
  "date",
  "uuid",
  "object",
] as const;

/** TypeBox schema of one class in the host config. */
export const ClassSchema = Type.Object(
  {
    name: Type.String({
      pattern: "^[A-Z][A-Za-z0-9_]*$",
      description: "class name, starting with a capital letter",
    }),
    description: Type.Optional(Type.String()),
    properties: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }),
          type: Type.Union(propertyTypes.map((type) => Type.Literal(type))),
          description: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    vectorizer: Type.Optional(
      Type.Object(
        {
          use: Type.String({ minLength: 1 }),
          fields: Type.Array(Type.String(), { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    vectorDimensions: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "length every vector of the class must have; writes with another length are rejected",
      }),
    ),
  },
  { additionalProperties: false },
);

export type ClassConfig = Static<typeof ClassSchema>;
