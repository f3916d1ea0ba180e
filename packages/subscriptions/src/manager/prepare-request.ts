import {
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import {
  SubscriptionsErrorCode,
  graphQLErrorWithCode,
  isStackOverflow,
  toGraphQLError,
  tooDeepError,
  withCode,
} from "../errors.js";
import { createDepthLimitRule } from "./depth-limit.js";
import { checkVariablesDepth } from "./variables-depth.js";

/** A GraphQL request as clients send it over HTTP and in `subscribe` messages. */
export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** A query or mutation, ready to execute. */
export interface PreparedOperation {
  kind: "query";
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
}

/** A subscription, ready to register. */
export interface PreparedSubscription {
  kind: "subscription";
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  /** The one root field and its argument values after variable coercion. */
  field: { name: string; args: Record<string, unknown> };
  /**
   * Equal for requests whose results are equal for every event: the same
   * document text, operation and variables. A variable used only as the
   * root field's `afterSeq` is left out, since it changes where a
   * subscriber starts but not what it receives.
   */
  groupKey: string;
}

export type PreparedRequest = PreparedOperation | PreparedSubscription;

interface ParsedDocument {
  document?: DocumentNode;
  errors?: readonly GraphQLError[];
}

/** Documents kept parsed and validated, so subscribers with the same text skip both steps. */
const DOCUMENT_CACHE_SIZE = 1000;

/**
 * Parses, validates and classifies GraphQL requests against one schema,
 * caching parsed and validated documents by their text.
 */
export class RequestPreparer {
  readonly #schema: GraphQLSchema;
  readonly #rules: ValidationRule[];
  readonly #documents = new Map<string, ParsedDocument>();

  constructor(schema: GraphQLSchema, maxQueryDepth: number) {
    this.#schema = schema;
    this.#rules = [...specifiedRules, createDepthLimitRule(maxQueryDepth)];
  }

  /**
   * Prepares a request, or returns the GraphQL errors that reject it. Every
   * error carries a code in `extensions.code`.
   */
  prepare(
    request: GraphQLRequest,
  ): PreparedRequest | { errors: readonly GraphQLError[] } {
    try {
      return this.#prepare(request);
    } catch (error) {
      // graphql-js recurses over argument values and selections, so deep input can overflow in any step.
      if (isStackOverflow(error)) return { errors: [tooDeepError("process")] };
      throw error;
    }
  }

  #prepare(
    request: GraphQLRequest,
  ): PreparedRequest | { errors: readonly GraphQLError[] } {
    const parsed = this.#parse(request.query);
    if (!parsed.document) return { errors: parsed.errors ?? [] };
    const document = parsed.document;

    const operationName = request.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      const message = operationName
        ? `no operation named ${operationName} in the document`
        : "the document has several operations; name one with operationName";
      return {
        errors: [
          graphQLErrorWithCode(
            SubscriptionsErrorCode.OPERATION_NAME_INVALID,
            message,
          ),
        ],
      };
    }

    const rawVariables = request.variables ?? {};
    const tooDeep = checkVariablesDepth(rawVariables);
    if (tooDeep) return { errors: [tooDeep] };

    const coerced = getVariableValues(
      this.#schema,
      operation.variableDefinitions ?? [],
      rawVariables,
      {
        maxErrors: 20,
      },
    );
    if (coerced.errors) return { errors: coerced.errors.map(variableError) };

    if (operation.operation !== "subscription") {
      return {
        kind: "query",
        document,
        operationName,
        variables: rawVariables,
      };
    }
    return this.#prepareSubscription(
      document,
      operation,
      rawVariables,
      coerced.coerced,
      request.query,
    );
  }

  #prepareSubscription(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    coerced: Record<string, unknown>,
    query: string,
  ): PreparedSubscription | { errors: readonly GraphQLError[] } {
    const fragments = fragmentsOf(document);
    const fields = rootFields(
      operation.selectionSet,
      fragments,
      coerced,
      new Set(),
    );
    if (fields.length !== 1) {
      return {
        errors: [
          withCode(
            new GraphQLError(
              "a subscription must select exactly one root field",
              { nodes: operation },
            ),
            SubscriptionsErrorCode.DOCUMENT_INVALID,
          ),
        ],
      };
    }

    const node = fields[0];
    const definition = this.#schema.getSubscriptionType()?.getFields()[
      node.name.value
    ];
    if (!definition) {
      return {
        errors: [
          withCode(
            new GraphQLError(`unknown subscription field ${node.name.value}`, {
              nodes: node,
            }),
            SubscriptionsErrorCode.DOCUMENT_INVALID,
          ),
        ],
      };
    }

    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, node, coerced);
    } catch (error) {
      return {
        errors: [
          withCode(
            toGraphQLError(error),
            SubscriptionsErrorCode.ARGUMENT_INVALID,
          ),
        ],
      };
    }

    const keyVariables = { ...coerced };
    const seqVariable = afterSeqVariable(node);
    if (seqVariable && countVariableUses(document, seqVariable) === 1)
      delete keyVariables[seqVariable];
    const groupKey = `${operation.name?.value ?? ""}\u0000${query}\u0000${stableStringify(keyVariables)}`;

    return {
      kind: "subscription",
      document,
      operationName: operation.name?.value,
      variables,
      field: { name: node.name.value, args },
      groupKey,
    };
  }

  #parse(query: string): ParsedDocument {
    const cached = this.#documents.get(query);
    if (cached) {
      // Re-insert to keep the map in least-recently-used order.
      this.#documents.delete(query);
      this.#documents.set(query, cached);
      return cached;
    }

    let entry: ParsedDocument;
    try {
      const document = parse(query);
      const errors = validate(this.#schema, document, this.#rules);
      entry =
        errors.length > 0
          ? { errors: errors.map(documentError) }
          : { document };
    } catch (error) {
      entry = { errors: [tooDeepToParse(error) ?? documentError(error)] };
    }

    this.#documents.set(query, entry);
    if (this.#documents.size > DOCUMENT_CACHE_SIZE) {
      this.#documents.delete(this.#documents.keys().next().value as string);
    }
    return entry;
  }
}

/**
 * Turns the stack overflow of graphql-js's recursive parser and validator
 * into a client error. With graphql 16 on Node 20's default stack, a
 * `where` literal of 1,000 levels of `and` overflows (500 levels parse),
 * before the filter compiler's own nesting limit can apply.
 */
function tooDeepToParse(error: unknown): GraphQLError | undefined {
  if (!isStackOverflow(error)) return undefined;
  return graphQLErrorWithCode(
    SubscriptionsErrorCode.QUERY_TOO_DEEP,
    "the document nests too deep to parse; flatten nested where filters and lists",
  );
}

/**
 * Gives a syntax or validation error the code
 * `WEFT_ERR_SUBSCRIPTIONS_DOCUMENT_INVALID` unless it has one. Any other
 * failure is internal and keeps its original error for the host log.
 */
function documentError(error: unknown): GraphQLError {
  if (!(error instanceof GraphQLError)) return toGraphQLError(error);
  return withCode(error, SubscriptionsErrorCode.DOCUMENT_INVALID);
}

/**
 * Gives a variable coercion error a code. graphql-js catches a stack
 * overflow of its coercion and returns it among the errors.
 */
function variableError(error: GraphQLError): GraphQLError {
  if (isStackOverflow(error) || isStackOverflow(error.originalError))
    return tooDeepError("coerce its variables");
  return withCode(
    toGraphQLError(error),
    SubscriptionsErrorCode.VARIABLES_INVALID,
  );
}

function fragmentsOf(
  document: DocumentNode,
): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  return fragments;
}

/** Collects the root fields an operation selects, through fragments and honouring @skip and @include. */
function rootFields(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  visited: Set<string>,
): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of set.selections) {
    if (
      getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if ===
      true
    )
      continue;
    if (
      getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if ===
      false
    )
      continue;

    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      if (
        !fields.some(
          (field) => (field.alias?.value ?? field.name.value) === key,
        )
      )
        fields.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      fields.push(
        ...rootFields(selection.selectionSet, fragments, variables, visited),
      );
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || visited.has(selection.name.value)) continue;
      visited.add(selection.name.value);
      fields.push(
        ...rootFields(fragment.selectionSet, fragments, variables, visited),
      );
    }
  }
  return fields;
}

function afterSeqVariable(node: FieldNode): string | undefined {
  const argument = node.arguments?.find((arg) => arg.name.value === "afterSeq");
  return argument?.value.kind === Kind.VARIABLE
    ? argument.value.name.value
    : undefined;
}

function countVariableUses(document: DocumentNode, name: string): number {
  let uses = 0;
  visit(document, {
    Variable(node, _key, parent) {
      // A variable definition names the variable; it is not a use.
      if (
        node.name.value === name &&
        (parent as { kind?: string } | undefined)?.kind !==
          Kind.VARIABLE_DEFINITION
      )
        uses += 1;
    },
  });
  return uses;
}

/** JSON with object keys sorted, so equal values give equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object")
    return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;

  const entries = Object.keys(value as Record<string, unknown>)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map(
      (key) =>
        `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`,
    );
  return `{${entries.join(",")}}`;
}
