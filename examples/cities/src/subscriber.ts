import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

/** One change a subscriber received. */
export interface CityChange {
  type: "INSERT" | "UPDATE" | "DELETE";
  seq: string;
  city: {
    id: string;
    name: string;
    country: string;
    population: number;
  } | null;
  previous: { population: number } | null;
}

/** A live subscription to the changes of one country's cities. */
export interface CountrySubscriber {
  readonly received: number;
  readonly changes: readonly CityChange[];
  close(): Promise<void>;
}

const query = `subscription CountryChanges($country: String!) {
  cityChanges(where: { country: { equals: $country } }) {
    type
    seq
    city { id name country population }
    previous { population }
  }
}`;

/**
 * Subscribes to the changes of `country` over graphql-ws and calls `onChange`
 * for each. Resolves once the subscription is acknowledged by the server.
 */
export async function subscribeToCountry(
  httpUrl: string,
  country: string,
  onChange: (change: CityChange, received: number) => void,
): Promise<CountrySubscriber> {
  const client: Client = createClient({
    url: `${httpUrl.replace(/^http/, "ws")}/v1/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
  });
  const changes: CityChange[] = [];
  let failure: unknown;

  await new Promise<void>((resolve, reject) => {
    client.on("connected", () => resolve());
    client.on("error", reject);
  });

  const unsubscribe = client.subscribe<{ cityChanges: CityChange }>(
    { query, variables: { country } },
    {
      next: (result) => {
        if (result.errors) failure = result.errors;
        const change = result.data?.cityChanges;
        if (!change) return;
        changes.push(change);
        onChange(change, changes.length);
      },
      error: (error) => (failure = error),
      complete: () => {},
    },
  );

  return {
    get received() {
      if (failure)
        throw new Error(`subscription failed: ${JSON.stringify(failure)}`);
      return changes.length;
    },
    changes,
    close: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
}
