/** Counts the objects of a class by paging through the host's object API. */
export async function countObjects(
  httpUrl: string,
  className: string,
): Promise<number> {
  let count = 0;
  let after: string | null = null;

  do {
    const query = new URLSearchParams({
      class: className,
      limit: "1000",
      ...(after ? { after } : {}),
    });
    const response = await fetch(`${httpUrl}/v1/objects?${query}`);
    if (!response.ok)
      throw new Error(
        `GET /v1/objects failed with ${response.status}: ${await response.text()}`,
      );
    const page = (await response.json()) as {
      objects: unknown[];
      next: string | null;
    };
    count += page.objects.length;
    after = page.next;
  } while (after);

  return count;
}

/** Reads the host's last committed seq from `/readyz`. */
export async function lastSeq(httpUrl: string): Promise<number> {
  const response = await fetch(`${httpUrl}/readyz`);
  const body = (await response.json()) as { lastSeq: number };
  return body.lastSeq;
}
