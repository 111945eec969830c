import type { LogInput } from './event-log.ts';
import type { Agent, AgentEvent, ExtensionRegistry } from './extension-registry.ts';
import { clampDelay } from './generation.ts';
import { sendRaw } from './http-json.ts';

/**
 * Writes INVOKE and SHUTDOWN events to the extensions' parked `/event/next` requests: an event released while no
 * request is parked waits on the agent until the next `/next`; fault injection can delay or withhold events per
 * extension name.
 */
export class AgentEventDelivery {
  readonly #delays = new Map<string, number>();
  readonly #registry: () => ExtensionRegistry | undefined;
  readonly #log: (entry: LogInput) => void;

  constructor(registry: () => ExtensionRegistry | undefined, log: (entry: LogInput) => void) {
    this.#registry = registry;
    this.#log = log;
  }

  /** Hands `event` to `agent`; written now if its /next is parked (and no fault holds it), else at its next /next. */
  release(agent: Agent, event: AgentEvent): void {
    const delay = this.#delays.get(agent.name) ?? 0;
    agent.pending = event;
    if (Number.isFinite(delay) && delay > 0) {
      event.notBefore = Date.now() + delay;
    }
    this.tryDeliver(agent);
  }

  /** Fault injection: every event to `name` waits `ms` before it is written; Infinity withholds; 0 clears. */
  delay(name: string, ms: number): void {
    if (ms <= 0) this.#delays.delete(name);
    else this.#delays.set(name, ms);
    if (ms <= 0) this.#retry(name);
  }

  /** Writes the agent's pending event to its parked /next, if both exist and no fault holds it. */
  tryDeliver(agent: Agent): void {
    const event = agent.pending;
    if (!event || !agent.parked) return;
    const delay = this.#delays.get(agent.name) ?? 0;
    if (delay === Number.POSITIVE_INFINITY) return;
    const wait = (event.notBefore ?? 0) - Date.now();
    if (wait > 0) {
      setTimeout(() => this.tryDeliver(agent), clampDelay(wait));
      return;
    }
    const res = agent.parked;
    agent.parked = undefined;
    agent.pending = undefined;
    agent.state = 'Running';
    // The RIE sets no header on SHUTDOWN; Go then sniffs the body as text/plain.
    const headers: Record<string, string | undefined> = event.bareHeaders
      ? { 'Content-Type': 'text/plain; charset=utf-8' }
      : { 'Content-Type': 'application/json', 'Lambda-Extension-Event-Identifier': event.eventId };
    const delivered = sendRaw(res, 200, event.body, headers);
    agent.lastRequestId = event.requestId;
    this.#log({
      kind: event.eventType === 'INVOKE' ? 'event.invoke' : 'event.shutdown',
      extension: agent.name,
      extensionId: agent.id,
      eventId: event.bareHeaders ? undefined : event.eventId,
      requestId: event.requestId,
      deadlineMs: event.deadlineMs,
      shutdownReason: event.shutdownReason,
      statusCode: 200,
      message: delivered
        ? undefined
        : 'written to a connection the extension had abandoned: event lost',
    });
  }

  #retry(name: string): void {
    for (const agent of this.#registry()?.all() ?? []) {
      if (agent.name !== name || !agent.pending) continue;
      agent.pending.notBefore = undefined;
      this.tryDeliver(agent);
    }
  }
}
