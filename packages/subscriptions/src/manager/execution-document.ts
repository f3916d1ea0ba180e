import {
  Kind,
  getOperationAST,
  isNonNullType,
  visit,
  type ArgumentNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";

/**
 * Returns the document a group executes for every event: its operation
 * with the optional arguments of the root subscription fields removed, and
 * without the variable definitions only those arguments used.
 *
 * Root field arguments (`where`, `operations`, `afterSeq`, `classes`) choose
 * which events reach the group, and the root resolvers return the event
 * without reading them. Without this step, graphql-js would coerce them and
 * the variables again for every event. The request was validated and its
 * variables coerced before the group was created, so removing them changes
 * no result. Required arguments stay, since execution rejects a field
 * without them.
 */
export function executionDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
): DocumentNode {
  const operation = getOperationAST(document, operationName);
  const rootType = schema.getSubscriptionType();
  if (!operation || !rootType) return document;

  const definitions: DefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition === operation) {
      definitions.push({
        ...operation,
        selectionSet: withoutRootArguments(rootType, operation.selectionSet),
      });
    } else if (
      definition.kind === Kind.FRAGMENT_DEFINITION &&
      definition.typeCondition.name.value === rootType.name
    ) {
      // A fragment on the root type can only be spread at the root, so its fields are root fields.
      definitions.push({
        ...definition,
        selectionSet: withoutRootArguments(rootType, definition.selectionSet),
      });
    } else if (definition.kind !== Kind.OPERATION_DEFINITION) {
      definitions.push(definition);
    }
  }
  const stripped: DocumentNode = { ...document, definitions };

  const used = usedVariables(stripped);
  return visit(stripped, {
    VariableDefinition: (node) =>
      used.has(node.variable.name.value) ? undefined : null,
  });
}

function withoutRootArguments(
  rootType: GraphQLObjectType,
  set: SelectionSetNode,
): SelectionSetNode {
  const fields = rootType.getFields();
  return {
    ...set,
    selections: set.selections.map((selection) => {
      if (selection.kind === Kind.FIELD) {
        const definition = fields[selection.name.value];
        return {
          ...selection,
          arguments: selection.arguments?.filter(
            (argument) => !isOptionalArgument(definition, argument),
          ),
        };
      }
      if (selection.kind === Kind.INLINE_FRAGMENT)
        return {
          ...selection,
          selectionSet: withoutRootArguments(rootType, selection.selectionSet),
        };
      return selection;
    }),
  };
}

/** Checks whether the field defines the argument with a nullable type. Unknown arguments count as required, so graphql-js still reports them. */
function isOptionalArgument(
  field: GraphQLField<unknown, unknown> | undefined,
  argument: ArgumentNode,
): boolean {
  const definition = field?.args.find(
    (arg) => arg.name === argument.name.value,
  );
  return definition !== undefined && !isNonNullType(definition.type);
}

function usedVariables(document: DocumentNode): Set<string> {
  const used = new Set<string>();
  visit(document, {
    VariableDefinition: () => false,
    Variable: (node) => {
      used.add(node.name.value);
    },
  });
  return used;
}
