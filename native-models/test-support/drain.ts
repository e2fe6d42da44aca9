// Runs a generation to its end: the ids it yielded and the summary it returned.
export async function drain<S>(
  it: AsyncGenerator<{ id: number }, S>,
): Promise<{ ids: number[]; summary: S }> {
  const ids: number[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { ids, summary: r.value };
    ids.push(r.value.id);
  }
}
