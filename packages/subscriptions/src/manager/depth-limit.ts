import {
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";

/**
 * Creates a validation rule that rejects operations whose selection sets
 * nest deeper than `maxDepth`, counting through fragments. A root field
 * alone is depth 1. Fragment cycles count once; graphql-js's own
 * NoFragmentCyclesRule reports them.
 */
export function createDepthLimitRule(maxDepth: number) {
  return function DepthLimitRule(context: ValidationContext): ASTVisitor {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION)
        fragments.set(definition.name.value, definition);
    }

    return {
      OperationDefinition(node) {
        const depth = measureDepth(
          node.selectionSet,
          fragments,
          new Set(),
          new Map(),
        );
        if (depth > maxDepth) {
          const name = node.name
            ? `operation ${node.name.value}`
            : "the operation";
          context.reportError(
            graphQLErrorWithCode(
              SubscriptionsErrorCode.QUERY_TOO_DEEP,
              `${name} nests ${depth} levels deep, above the maximum of ${maxDepth}; select fewer nested fields`,
              { depth, maxDepth },
            ),
          );
        }
      },
    };
  };
}

function measureDepth(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: Set<string>,
  memo: Map<string, number>,
): number {
  let deepest = 0;
  for (const selection of set.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      depth =
        1 +
        (selection.selectionSet
          ? measureDepth(selection.selectionSet, fragments, visiting, memo)
          : 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = measureDepth(selection.selectionSet, fragments, visiting, memo);
    } else {
      depth = fragmentDepth(selection.name.value, fragments, visiting, memo);
    }
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}

/** Memoized per fragment, so a document that spreads fragments many times is measured in linear time. */
function fragmentDepth(
  name: string,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: Set<string>,
  memo: Map<string, number>,
): number {
  const known = memo.get(name);
  if (known !== undefined) return known;
  const fragment = fragments.get(name);
  if (!fragment || visiting.has(name)) return 0;

  visiting.add(name);
  const depth = measureDepth(fragment.selectionSet, fragments, visiting, memo);
  visiting.delete(name);
  memo.set(name, depth);
  return depth;
}
