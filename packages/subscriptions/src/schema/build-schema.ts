import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  type GraphQLFieldConfigMap,
  type GraphQLInputFieldConfigMap,
  type GraphQLOutputType,
} from "graphql";
import type { ChangeEvent, ClassDefinition, PropertyType } from "@weft/core";
import { WeftError } from "@weft/core";
import { SubscriptionsErrorCode } from "../errors.js";
import {
  eventObject,
  eventPrevious,
  type ObjectSource,
} from "../queries/object-source.js";
import {
  classQueryFields,
  type ResolverContext,
} from "../queries/class-queries.js";
import { conditionTypes } from "./condition-types.js";
import {
  classFieldNames,
  combinatorNames,
  objectFieldConflict,
  type ClassFieldNames,
} from "./names.js";
import { JSONScalar, SafeIntScalar } from "./scalars.js";

/** The events a subscription root field receives: one class, or all. */
export type SubscriptionTarget =
  { kind: "class"; className: string } | { kind: "all" };

/** The generated schema and what the subscription manager needs to know about it. */
export interface GeneratedSchema {
  schema: GraphQLSchema;
  /** Subscription root fields by name. */
  subscriptionFields: ReadonlyMap<string, SubscriptionTarget>;
  /** Root field names of each class. */
  classFields: ReadonlyMap<string, ClassFieldNames>;
  /** Properties left out of the schema, with the reason, for a warning at start. */
  omitted: Array<{ class: string; property: string; reason: string }>;
}

const ChangeOperationEnum = new GraphQLEnumType({
  name: "ChangeOperation",
  values: { INSERT: {}, UPDATE: {}, DELETE: {} },
});

const ChangeMetadataType = new GraphQLObjectType<ChangeEvent>({
  name: "ChangeMetadata",
  fields: {
    timestamp: {
      type: new GraphQLNonNull(GraphQLString),
      description: "Commit time, ISO-8601.",
      resolve: (event) => event.timestamp,
    },
    user: {
      type: GraphQLString,
      resolve: (event) => event.metadata.user ?? null,
    },
    transactionId: {
      type: new GraphQLNonNull(GraphQLString),
      description: "Shared by every change of one committed batch.",
      resolve: (event) => event.txId,
    },
    traceparent: {
      type: GraphQLString,
      description: "W3C trace context of the write.",
      resolve: (event) => event.metadata.traceparent ?? null,
    },
    origin: {
      type: new GraphQLNonNull(GraphQLString),
      description:
        "The plugin that wrote the change, or `http` for the object API.",
      resolve: (event) => event.origin.plugin,
    },
  },
});

/** Returns the change fields that every subscription result type has. */
function changeFields(): GraphQLFieldConfigMap<ChangeEvent, unknown> {
  return {
    type: {
      type: new GraphQLNonNull(ChangeOperationEnum),
      resolve: (event) => event.op,
    },
    seq: {
      type: new GraphQLNonNull(GraphQLString),
      description:
        "Position in the change log, a string of digits; pass the last one seen as `afterSeq` to resume.",
      resolve: (event) => String(event.seq),
    },
    _metadata: {
      type: new GraphQLNonNull(ChangeMetadataType),
      resolve: (event) => event,
    },
  };
}

const outputTypes: Record<PropertyType, GraphQLOutputType> = {
  text: GraphQLString,
  "text[]": new GraphQLList(GraphQLString),
  int: SafeIntScalar,
  number: GraphQLFloat,
  boolean: GraphQLBoolean,
  date: GraphQLString,
  uuid: GraphQLID,
  object: JSONScalar,
};

/** The types generated for one class. */
interface ClassTypes {
  definition: ClassDefinition;
  names: ClassFieldNames;
  object: GraphQLObjectType<ObjectSource>;
  where: GraphQLInputObjectType;
  change: GraphQLObjectType<ChangeEvent>;
}

function buildObjectType(
  definition: ClassDefinition,
  properties: ClassDefinition["properties"],
): GraphQLObjectType<ObjectSource> {
  const fields: GraphQLFieldConfigMap<ObjectSource, unknown> = {
    id: { type: new GraphQLNonNull(GraphQLID), resolve: (object) => object.id },
  };
  for (const property of properties) {
    fields[property.name] = {
      type: outputTypes[property.type],
      resolve: (object) => object.properties[property.name] ?? null,
    };
  }
  fields._vector = {
    type: new GraphQLList(new GraphQLNonNull(GraphQLFloat)),
    description:
      "The object's vector, when it has one. Change events carry it for inserts and updates.",
    resolve: (object) => object.vector ?? null,
  };
  fields._version = {
    type: GraphQLInt,
    description:
      "Starts at 1 and grows with each change; null in change events.",
    resolve: (object) => object.version ?? null,
  };
  fields._updatedAt = {
    type: GraphQLString,
    description: "Time of the last change, ISO-8601; null in change events.",
    resolve: (object) => object.updatedAt ?? null,
  };
  return new GraphQLObjectType<ObjectSource>({ name: definition.name, fields });
}

function buildWhereType(
  definition: ClassDefinition,
  properties: ClassDefinition["properties"],
): GraphQLInputObjectType {
  const whereType: GraphQLInputObjectType = new GraphQLInputObjectType({
    name: `${definition.name}Where`,
    description: `Filter on ${definition.name} properties. Keys of one object combine with and.`,
    fields: () => {
      const fields: GraphQLInputFieldConfigMap = {
        and: { type: new GraphQLList(new GraphQLNonNull(whereType)) },
        or: { type: new GraphQLList(new GraphQLNonNull(whereType)) },
        not: { type: whereType },
      };
      for (const property of properties) {
        if (combinatorNames.has(property.name)) continue;
        fields[property.name] = { type: conditionTypes[property.type] };
      }
      return fields;
    },
  });
  return whereType;
}

function buildChangeType(
  definition: ClassDefinition,
  names: ClassFieldNames,
  object: GraphQLObjectType<ObjectSource>,
): GraphQLObjectType<ChangeEvent> {
  return new GraphQLObjectType<ChangeEvent>({
    name: `${definition.name}Change`,
    fields: {
      ...changeFields(),
      [names.object]: {
        type: object,
        description:
          "The object after the change; for deletes, the object as it was before.",
        resolve: eventObject,
      },
      previous: {
        type: object,
        description: "The object before the change; null for inserts.",
        resolve: eventPrevious,
      },
    },
  });
}

function buildClassTypes(
  definition: ClassDefinition,
  omitted: GeneratedSchema["omitted"],
): ClassTypes {
  const properties = definition.properties.filter((property) => {
    const reason = objectFieldConflict(property);
    if (reason)
      omitted.push({ class: definition.name, property: property.name, reason });
    return reason === undefined;
  });
  for (const property of properties) {
    if (combinatorNames.has(property.name)) {
      omitted.push({
        class: definition.name,
        property: property.name,
        reason: `${property.name} combines clauses in where inputs, so the property cannot be filtered there`,
      });
    }
  }

  const names = classFieldNames(definition);
  const object = buildObjectType(definition, properties);
  const where = buildWhereType(definition, properties);
  return {
    definition,
    names,
    object,
    where,
    change: buildChangeType(definition, names, object),
  };
}

function buildGenericChangeType(): GraphQLObjectType<ChangeEvent> {
  return new GraphQLObjectType<ChangeEvent>({
    name: "Change",
    description: "A change of any class, with the object as JSON.",
    fields: {
      ...changeFields(),
      class: {
        type: new GraphQLNonNull(GraphQLString),
        resolve: (event) => event.class,
      },
      id: { type: new GraphQLNonNull(GraphQLID), resolve: (event) => event.id },
      object: {
        type: JSONScalar,
        description: "Properties after the change; for deletes, before it.",
        resolve: (event) => eventObject(event)?.properties ?? null,
      },
      previous: {
        type: JSONScalar,
        description: "Properties before the change; null for inserts.",
        resolve: (event) => event.before,
      },
    },
  });
}

function subscriptionRoot(
  classTypes: ClassTypes[],
  subscriptionFields: Map<string, SubscriptionTarget>,
): GraphQLObjectType {
  const operations = {
    type: new GraphQLList(new GraphQLNonNull(ChangeOperationEnum)),
  };
  const afterSeq = {
    type: GraphQLString,
    description:
      "The last seq the client saw: replays later changes from the change log, then goes live.",
  };
  const fields: GraphQLFieldConfigMap<ChangeEvent, unknown> = {};

  for (const types of classTypes) {
    fields[types.names.changes] = {
      type: new GraphQLNonNull(types.change),
      description: `Changes of ${types.definition.name} objects. Deletes are filtered on the before image.`,
      args: { where: { type: types.where }, operations, afterSeq },
      // The manager executes the document with the change event as root
      // value and without the optional root arguments, so none are read here.
      resolve: (event) => event,
    };
    subscriptionFields.set(types.names.changes, {
      kind: "class",
      className: types.definition.name,
    });
  }

  const classNames = classTypes.map((types) => types.definition.name);
  const classesType =
    classNames.length > 0
      ? new GraphQLEnumType({
          name: "ClassName",
          values: Object.fromEntries(classNames.map((name) => [name, {}])),
        })
      : GraphQLString;
  fields.changes = {
    type: new GraphQLNonNull(buildGenericChangeType()),
    description: "Changes of the listed classes, or of every class.",
    args: {
      classes: { type: new GraphQLList(new GraphQLNonNull(classesType)) },
      operations,
      afterSeq,
    },
    // Executed without the optional root arguments, like the class fields.
    resolve: (event) => event,
  };
  subscriptionFields.set("changes", { kind: "all" });

  return new GraphQLObjectType({ name: "Subscription", fields });
}

function queryRoot(classTypes: ClassTypes[]): GraphQLObjectType {
  const fields: GraphQLFieldConfigMap<unknown, ResolverContext> = {
    lastSeq: {
      type: new GraphQLNonNull(GraphQLString),
      description:
        "The last committed seq: subscribe with it as `afterSeq` to get every later change.",
      resolve: (_source, _args, context) =>
        String(context.host.changes.lastSeq()),
    },
  };
  for (const types of classTypes) {
    Object.assign(
      fields,
      classQueryFields(
        types.definition,
        types.names,
        types.object,
        types.where,
      ),
    );
  }
  return new GraphQLObjectType({ name: "Query", fields });
}

/** Types the plugin defines whatever the classes are. */
const fixedTypeNames = [
  "Query",
  "Subscription",
  "Change",
  "ChangeOperation",
  "ChangeMetadata",
  "ClassName",
  "JSON",
  "SafeInt",
  ...Object.values(conditionTypes).map((type) => type.name),
];

function conflict(message: string, details: Record<string, unknown>): never {
  throw new WeftError(SubscriptionsErrorCode.SCHEMA_CONFLICT, message, {
    details,
  });
}

/** Fails when two classes derive the same root field name, which GraphQL cannot hold. */
function checkRootNames(classTypes: ClassTypes[]): void {
  const owners = new Map<string, string>([
    ["lastSeq", "the plugin"],
    ["changes", "the plugin"],
  ]);
  for (const { names } of classTypes) {
    for (const field of [
      names.get,
      names.list,
      names.nearVector,
      names.nearText,
      names.changes,
    ]) {
      if (field === undefined) continue;
      const owner = owners.get(field);
      if (owner) {
        conflict(
          `class ${names.className} needs the GraphQL root field ${field}, which ${owner === "the plugin" ? "the plugin defines" : `class ${owner} already uses`}; rename one of the classes`,
          { class: names.className, field },
        );
      }
      owners.set(field, names.className);
    }
  }
}

/**
 * Generates the GraphQL schema of a host's classes. Each class gets an
 * object type, a typed `where` input, a `<class>Changes` subscription, and
 * get, list and similarity queries. The generic `changes` subscription and
 * the `lastSeq` query come on top.
 * @throws WeftError `WEFT_ERR_SUBSCRIPTIONS_SCHEMA_CONFLICT` when class names
 * produce the same GraphQL name twice.
 */
export function buildSchema(
  classes: Iterable<ClassDefinition>,
): GeneratedSchema {
  const omitted: GeneratedSchema["omitted"] = [];
  const classTypes = [...classes].map((definition) =>
    buildClassTypes(definition, omitted),
  );
  checkRootNames(classTypes);

  const subscriptionFields = new Map<string, SubscriptionTarget>();
  let schema: GraphQLSchema;
  try {
    schema = new GraphQLSchema({
      query: queryRoot(classTypes),
      subscription: subscriptionRoot(classTypes, subscriptionFields),
      types: Object.values(conditionTypes),
    });
  } catch (error) {
    // graphql-js rejects two types of the same name, such as a class named
    // Change next to the generic Change type.
    const duplicate = /multiple types named "([^"]+)"/.exec(
      (error as Error).message,
    );
    if (!duplicate) throw error;
    conflict(
      `GraphQL type name ${duplicate[1]} is generated twice; rename the class that produces it (a class C produces the types C, CWhere, CChange, CPage and CHit, and the plugin defines ${fixedTypeNames.join(", ")})`,
      { type: duplicate[1] },
    );
  }

  return {
    schema,
    subscriptionFields,
    classFields: new Map(
      classTypes.map((types) => [types.definition.name, types.names]),
    ),
    omitted,
  };
}
