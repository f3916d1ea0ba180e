import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from "graphql";

/**
 * Tells whether the selection under `path` (field names below the current
 * field) selects `field`, through fragments and honouring @skip and
 * @include. Queries read the vector from the store only when a client
 * selects `_vector`.
 */
export function selectsField(
  info: GraphQLResolveInfo,
  path: string[],
  field: string,
): boolean {
  const sets = info.fieldNodes
    .map((node) => node.selectionSet)
    .filter((set): set is SelectionSetNode => set !== undefined);
  return sets.some((set) => selectsIn(set, [...path, field], info));
}

function selectsIn(
  set: SelectionSetNode,
  path: string[],
  info: GraphQLResolveInfo,
  visited = new Set<string>(),
): boolean {
  for (const selection of set.selections) {
    if (!isIncluded(selection, info)) continue;

    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== path[0]) continue;
      if (path.length === 1) return true;
      if (
        selection.selectionSet &&
        selectsIn(selection.selectionSet, path.slice(1), info, visited)
      )
        return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectsIn(selection.selectionSet, path, info, visited)) return true;
    } else {
      const name = selection.name.value;
      const fragment = info.fragments[name];
      if (!fragment || visited.has(name)) continue;
      visited.add(name);
      if (selectsIn(fragment.selectionSet, path, info, visited)) return true;
    }
  }
  return false;
}

function isIncluded(
  node: Parameters<typeof getDirectiveValues>[1],
  info: GraphQLResolveInfo,
): boolean {
  const skip = getDirectiveValues(
    GraphQLSkipDirective,
    node,
    info.variableValues,
  );
  if (skip?.if === true) return false;
  const include = getDirectiveValues(
    GraphQLIncludeDirective,
    node,
    info.variableValues,
  );
  return include?.if !== false;
}
