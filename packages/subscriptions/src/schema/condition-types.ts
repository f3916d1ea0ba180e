import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLString,
  type GraphQLInputFieldConfigMap,
  type GraphQLInputType,
} from "graphql";
import type { PropertyType } from "@weft/core";
import { JSONScalar, SafeIntScalar } from "./scalars.js";

function listOf(type: GraphQLInputType): GraphQLInputType {
  return new GraphQLList(new GraphQLNonNull(type));
}

/** equals, notEquals, in, notIn and isNull: the operators every property type has. */
function commonOperators(
  operand: GraphQLInputType,
): GraphQLInputFieldConfigMap {
  return {
    equals: {
      type: operand,
      description: "Equal; `null` matches a missing or null property.",
    },
    notEquals: { type: operand },
    in: { type: listOf(operand), description: "Equal to one of the list." },
    notIn: { type: listOf(operand) },
    isNull: {
      type: GraphQLBoolean,
      description: "true: missing or null; false: set.",
    },
  };
}

function orderingOperators(
  operand: GraphQLInputType,
): GraphQLInputFieldConfigMap {
  return {
    gt: { type: operand },
    gte: { type: operand },
    lt: { type: operand },
    lte: { type: operand },
  };
}

const textOperators: GraphQLInputFieldConfigMap = {
  like: {
    type: GraphQLString,
    description:
      "Case-sensitive pattern: `*` is any run of characters, `?` one character.",
  },
  contains: { type: GraphQLString, description: "Substring." },
};

/** The condition input type of each property type, shared by every class. */
export const conditionTypes: Record<PropertyType, GraphQLInputObjectType> = {
  text: new GraphQLInputObjectType({
    name: "TextCondition",
    fields: { ...commonOperators(GraphQLString), ...textOperators },
  }),
  "text[]": new GraphQLInputObjectType({
    name: "TextArrayCondition",
    description: "Conditions on a list of strings.",
    fields: {
      equals: {
        type: listOf(GraphQLString),
        description: "The whole list, in order.",
      },
      notEquals: { type: listOf(GraphQLString) },
      in: {
        type: listOf(GraphQLString),
        description: "Some element is one of these.",
      },
      notIn: {
        type: listOf(GraphQLString),
        description: "No element is one of these.",
      },
      isNull: { type: GraphQLBoolean },
      contains: {
        type: GraphQLString,
        description: "Some element equals this string.",
      },
      like: {
        type: GraphQLString,
        description: "Some element matches this pattern.",
      },
    },
  }),
  int: new GraphQLInputObjectType({
    name: "IntCondition",
    fields: {
      ...commonOperators(SafeIntScalar),
      ...orderingOperators(SafeIntScalar),
    },
  }),
  number: new GraphQLInputObjectType({
    name: "NumberCondition",
    fields: {
      ...commonOperators(GraphQLFloat),
      ...orderingOperators(GraphQLFloat),
    },
  }),
  boolean: new GraphQLInputObjectType({
    name: "BooleanCondition",
    fields: commonOperators(GraphQLBoolean),
  }),
  date: new GraphQLInputObjectType({
    name: "DateCondition",
    description: "Dates are ISO-8601 strings and compare as instants.",
    fields: {
      ...commonOperators(GraphQLString),
      ...orderingOperators(GraphQLString),
    },
  }),
  uuid: new GraphQLInputObjectType({
    name: "IdCondition",
    fields: commonOperators(GraphQLID),
  }),
  object: new GraphQLInputObjectType({
    name: "JsonCondition",
    description: "Compares the whole JSON value.",
    fields: commonOperators(JSONScalar),
  }),
};
