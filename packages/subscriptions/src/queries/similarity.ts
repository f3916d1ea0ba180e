import type { Store, StoredObject, Where } from "@weft/core";
import { SubscriptionsErrorCode, graphQLErrorWithCode } from "../errors.js";

/** Objects read per store page while scanning a class. */
const SCAN_PAGE_SIZE = 500;

/** One result of a similarity query. */
export interface SimilarityHit {
  object: StoredObject;
  /** Cosine similarity in [-1, 1]; 1 is the same direction. */
  similarity: number;
  /** Cosine distance, `1 - similarity`, in [0, 2]. */
  distance: number;
}

/** Parameters of a similarity query. */
export interface SimilarityQuery {
  className: string;
  vector: number[];
  limit: number;
  where?: Where;
}

/**
 * Returns the `limit` objects of a class whose vectors are closest to
 * `vector` by cosine similarity, best first. It scans every object of the
 * class through the store's list pages (a brute-force scan, O(objects) per
 * query), which suits the embedded stores but not millions of objects.
 * Objects without a vector, or with a vector of another length, are skipped.
 */
export async function findNearest(
  store: Store,
  query: SimilarityQuery,
): Promise<SimilarityHit[]> {
  const queryNorm = norm(query.vector);
  if (queryNorm === 0 || !query.vector.every(Number.isFinite)) {
    throw graphQLErrorWithCode(
      SubscriptionsErrorCode.ARGUMENT_INVALID,
      "vector must have finite components and a length above zero",
    );
  }

  const best: SimilarityHit[] = [];
  let after: string | undefined;
  do {
    const page = await store.list({
      class: query.className,
      where: query.where,
      limit: SCAN_PAGE_SIZE,
      withVector: true,
      ...(after === undefined ? {} : { after }),
    });
    for (const object of page.objects) {
      const similarity = cosine(query.vector, queryNorm, object.vector);
      if (similarity === undefined) continue;
      insertRanked(
        best,
        { object, similarity, distance: 1 - similarity },
        query.limit,
      );
    }
    after = page.next ?? undefined;
  } while (after !== undefined);

  return best;
}

function norm(vector: number[]): number {
  let sum = 0;
  for (const component of vector) sum += component * component;
  return Math.sqrt(sum);
}

function cosine(
  query: number[],
  queryNorm: number,
  vector: number[] | undefined,
): number | undefined {
  if (!vector || vector.length !== query.length) return undefined;

  let dot = 0;
  let sum = 0;
  for (let i = 0; i < query.length; i++) {
    dot += query[i] * vector[i];
    sum += vector[i] * vector[i];
  }
  if (sum === 0) return undefined;
  return dot / (queryNorm * Math.sqrt(sum));
}

/** Keeps `ranked` sorted by descending similarity and at most `limit` long. */
function insertRanked(
  ranked: SimilarityHit[],
  hit: SimilarityHit,
  limit: number,
): void {
  if (ranked.length === limit && hit.similarity <= ranked[limit - 1].similarity)
    return;

  let low = 0;
  let high = ranked.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranked[middle].similarity >= hit.similarity) low = middle + 1;
    else high = middle;
  }
  ranked.splice(low, 0, hit);
  if (ranked.length > limit) ranked.pop();
}
