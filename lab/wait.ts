// Waiting on the lab: poll a condition until it holds, or fail saying what was awaited (and, if given, what the
// lab looked like then). A condition that throws counts as not yet (an agent not listening yet, say).

export async function waitUntil(
  what: () => Promise<boolean>, timeoutMs: number, why: string, context: () => string = () => '', everyMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await what().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${why}${context() ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
