import { LifelineError } from './errors.ts';
import type { EventName, ExtensionsApi, Registration } from './runtime-api/extensions-api.ts';

/** A registration and the events Lambda accepted it for. */
export interface GrantedRegistration {
  registration: Registration;
  /** What the registration got: `INVOKE` and `SHUTDOWN` normally, `SHUTDOWN` only on Managed Instances. */
  events: readonly EventName[];
  /** Lambda refused `INVOKE` (Managed Instances even when the environment variable did not say so). */
  invokeRefused: boolean;
}

/**
 * Registers for as much as the platform allows. Managed Instances take `SHUTDOWN` only, so that is asked for
 * straight away when the environment says so; anywhere else `INVOKE` + `SHUTDOWN` is asked first, and each
 * `403 Extension.InvalidEventType` drops the refused event (named at the start of the error message, else `INVOKE`)
 * and asks again, down to no events at all, which still keeps the extension registered and the function working.
 * `onSent` runs once, when the first request is on the wire.
 * @throws the last refusal when no registration is possible at all (any other refusal, a 5xx, the network).
 */
export async function registerWithFallback(
  api: ExtensionsApi,
  name: string,
  options: { managedInstances: boolean; onSent?: () => void },
): Promise<GrantedRegistration> {
  let events: EventName[] = options.managedInstances ? ['SHUTDOWN'] : ['INVOKE', 'SHUTDOWN'];
  let invokeRefused = false;
  let onSent = options.onSent;
  for (;;) {
    try {
      const registration = await api.register(name, events, onSent);
      return { registration, events, invokeRefused };
    } catch (error) {
      const refused = refusedEvent(error, events);
      if (refused === undefined || events.length === 0) throw error;
      if (refused === 'INVOKE') invokeRefused = true;
      events = events.filter((event) => event !== refused);
      onSent = undefined;
    }
  }
}

/** The event a `403 Extension.InvalidEventType` refused, if `error` is one and names (or implies) one we asked for. */
function refusedEvent(error: unknown, asked: readonly EventName[]): EventName | undefined {
  if (!(error instanceof LifelineError) || error.status !== 403) return undefined;
  if (error.errorType !== 'Extension.InvalidEventType') return undefined;
  // The platform's message starts with the refused event: "INVOKE: ErrorInvalidEventType".
  const named = asked.find((event) => error.message.includes(`${event}:`));
  return named ?? asked[0];
}
