import {
  GraphQLFloat,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  type GraphQLFieldConfigMap,
  type GraphQLResolveInfo,
} from "graphql";
import {
  toObjectId,
  type ClassDefinition,
  type PluginHost,
  type StoredObject,
} from "@weft/core";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";
import type { ClassFieldNames } from "../schema/names.js";
import { toCoreWhere } from "../schema/where-input.js";
import type { ObjectSource } from "./object-source.js";
import { selectsField } from "./selects-field.js";
import { findNearest } from "./similarity.js";

/** The context value of every query the plugin executes. */
export interface ResolverContext {
  host: PluginHost;
  /** Largest `limit` a list or similarity query accepts. */
  maxPageSize: number;
}

const DEFAULT_LIST_LIMIT = 20;
const DEFAULT_NEAREST_LIMIT = 10;

function checkLimit(limit: number, context: ResolverContext): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > context.maxPageSize) {
    throw graphQLErrorWithCode(
      SubscriptionsErrorCode.ARGUMENT_INVALID,
      `limit must be between 1 and ${context.maxPageSize}, got ${limit}; page through larger results with after`,
      { limit, maxPageSize: context.maxPageSize },
    );
  }
  return limit;
}

interface ListArgs {
  where?: unknown;
  limit: number;
  after?: string | null;
}

interface NearArgs {
  where?: unknown;
  limit: number;
}

/**
 * Builds the query root fields of one class: get by id, a filtered page, and
 * `nearVector` / `nearText` top-k similarity (nearText only when the class
 * has a vectorizer).
 */
export function classQueryFields(
  definition: ClassDefinition,
  names: ClassFieldNames,
  objectType: GraphQLObjectType<ObjectSource>,
  whereType: GraphQLInputObjectType,
): GraphQLFieldConfigMap<unknown, ResolverContext> {
  const className = definition.name;
  const pageType = new GraphQLObjectType<{
    objects: StoredObject[];
    next: string | null;
  }>({
    name: `${className}Page`,
    fields: {
      objects: {
        type: new GraphQLNonNull(
          new GraphQLList(new GraphQLNonNull(objectType)),
        ),
      },
      next: {
        type: GraphQLString,
        description:
          "Cursor of the next page, for `after`; null on the last page.",
      },
    },
  });
  const hitType = new GraphQLObjectType({
    name: `${className}Hit`,
    fields: {
      object: { type: new GraphQLNonNull(objectType) },
      similarity: {
        type: new GraphQLNonNull(GraphQLFloat),
        description:
          "Cosine similarity, from -1 to 1; 1 is the same direction.",
      },
      distance: {
        type: new GraphQLNonNull(GraphQLFloat),
        description: "Cosine distance: 1 - similarity.",
      },
    },
  });
  const hitsType = new GraphQLNonNull(
    new GraphQLList(new GraphQLNonNull(hitType)),
  );
  const nearArgs = {
    where: { type: whereType },
    limit: { type: GraphQLInt, defaultValue: DEFAULT_NEAREST_LIMIT },
  };

  const fields: GraphQLFieldConfigMap<unknown, ResolverContext> = {
    [names.get]: {
      type: objectType,
      description: `One ${className} by id: its UUID, or the key it was written with.`,
      args: { id: { type: new GraphQLNonNull(GraphQLID) } },
      resolve: async (_source, args: { id: string }, context, info) => {
        const withVector = selectsField(info, [], "_vector");
        const object = await context.host
          .store()
          .get(className, toObjectId(args.id), { withVector });
        return object ?? null;
      },
    },
    [names.list]: {
      type: new GraphQLNonNull(pageType),
      description: `A page of ${className} objects in id order.`,
      args: {
        where: { type: whereType },
        limit: { type: GraphQLInt, defaultValue: DEFAULT_LIST_LIMIT },
        after: {
          type: GraphQLString,
          description: "The `next` cursor of the previous page.",
        },
      },
      resolve: (_source, args: ListArgs, context, info: GraphQLResolveInfo) =>
        context.host.store().list({
          class: className,
          where: toCoreWhere(args.where),
          limit: checkLimit(args.limit, context),
          withVector: selectsField(info, ["objects"], "_vector"),
          ...(args.after ? { after: args.after } : {}),
        }),
    },
    [names.nearVector]: {
      type: hitsType,
      description: `The ${className} objects closest to a vector by cosine similarity (a scan of the whole class).`,
      args: {
        vector: {
          type: new GraphQLNonNull(
            new GraphQLList(new GraphQLNonNull(GraphQLFloat)),
          ),
        },
        ...nearArgs,
      },
      resolve: (_source, args: NearArgs & { vector: number[] }, context) =>
        findNearest(context.host.store(), {
          className,
          vector: args.vector,
          limit: checkLimit(args.limit, context),
          where: toCoreWhere(args.where),
        }),
    },
  };

  const vectorizerName = definition.vectorizer?.use;
  if (names.nearText && vectorizerName) {
    fields[names.nearText] = {
      type: hitsType,
      description: `The ${className} objects closest to a text, vectorized with the class's vectorizer ${vectorizerName} (a scan of the whole class).`,
      args: { text: { type: new GraphQLNonNull(GraphQLString) }, ...nearArgs },
      resolve: async (_source, args: NearArgs & { text: string }, context) => {
        const limit = checkLimit(args.limit, context);
        const [vector] = await context.host
          .vectorizer(vectorizerName)
          .vectorize([args.text]);
        return findNearest(context.host.store(), {
          className,
          vector,
          limit,
          where: toCoreWhere(args.where),
        });
      },
    };
  }
  return fields;
}
