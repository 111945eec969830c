/**
 * An X-Ray trace id as users copy it (`1-5759e988-bd862e3fe1be46a994272793`) is the `Root=` part of the trace
 * header Lambda passes with each invoke (`Root=1-…;Parent=…;Sampled=1`), which is what events carry. The range
 * [low, high) holds every header starting with that root, so an index on the header finds it.
 */
export function traceIdRange(q: string): { low: string; high: string } | null {
  if (!/^1-[0-9a-f]{8}-[0-9a-f]{24}$/i.test(q)) return null;
  return { low: `Root=${q}`, high: `Root=${q}~` };
}
