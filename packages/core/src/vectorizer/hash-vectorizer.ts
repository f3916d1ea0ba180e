import type { Vectorizer } from "./types.js";

/** Default dimensions of the built-in `hash` vectorizer. */
export const HASH_DIMENSIONS = 256;

const tokenPattern = /[\p{L}\p{N}]+/gu;

/** 32-bit FNV-1a over the UTF-16 code units of a token. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Creates the built-in `hash` vectorizer: feature hashing of lower-cased word
 * tokens and their bigrams into a fixed number of dimensions, with a sign bit
 * from a second hash so collisions cancel instead of piling up, then L2
 * normalisation. Deterministic and offline; it captures shared words, not
 * meaning.
 */
export function createHashVectorizer(dimensions = HASH_DIMENSIONS): Vectorizer {
  return {
    dimensions,
    async vectorize(texts) {
      return texts.map((text) => hashText(text, dimensions));
    },
  };
}

function hashText(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const tokens = text.toLowerCase().match(tokenPattern) ?? [];

  const add = (feature: string, weight: number) => {
    const index = fnv1a(feature) % dimensions;
    const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
    vector[index] += sign * weight;
  };
  for (let i = 0; i < tokens.length; i++) {
    add(tokens[i], 1);
    if (i > 0) add(`${tokens[i - 1]} ${tokens[i]}`, 0.5);
  }

  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? vector : vector.map((value) => Math.fround(value / norm));
}
