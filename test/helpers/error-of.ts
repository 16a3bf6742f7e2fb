/** The error a promise rejects with (its code and message), or null when it resolves. */
export async function errorOf (p: Promise<unknown>): Promise<{ code: string, message: string } | null> {
  try { await p; return null } catch (err) { return err as { code: string, message: string } }
}
