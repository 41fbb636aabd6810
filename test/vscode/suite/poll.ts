// Waiting in the in-VS Code tests for what happens elsewhere (a debug session, the language
// server, the panel): poll until `probe` gives a value, or fail after `ms` naming what was awaited.
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
