import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ManagedProcess } from './processes.ts';
import type { ExtensionInfo, ExtensionState } from './types.ts';

/** Max agents per function (RAPID `MaxAgentsAllowed`). */
export const MAX_EXTENSIONS = 10;

/** An event as written to an extension's `/event/next`. */
export interface AgentEvent {
  eventType: 'INVOKE' | 'SHUTDOWN';
  /** Exact JSON body (Go `json.Marshal`: no trailing newline). */
  body: string;
  eventId: string;
  requestId?: string;
  deadlineMs: number;
  shutdownReason?: string;
  /** Omit Content-Type and Lambda-Extension-Event-Identifier (RIE quirk for SHUTDOWN). */
  bareHeaders?: boolean;
  /** Epoch ms before which the event is not written (fault injection: delayed events). */
  notBefore?: number;
}

/** One registered (or launched, not yet registered) extension of one generation. */
export class Agent {
  readonly name: string;
  readonly external: boolean;
  id: string | undefined;
  state: ExtensionState;
  events: string[] = [];
  errorType: string | undefined;
  process: ManagedProcess | undefined;
  readonly path: string | undefined;
  /** The outstanding `/event/next` response, written when an event is released. */
  parked: ServerResponse | undefined;
  /** An event released while no `/next` was parked (or held back by a fault). */
  pending: AgentEvent | undefined;
  /** Fault injection: extra delay before each event is written; Infinity withholds. */
  eventDelayMs = 0;
  /** Epoch ms of the last transition to Ready. */
  readyAt: number | undefined;
  /** requestId of the last INVOKE written to this agent (its next /next completes that invoke). */
  lastRequestId: string | undefined;

  constructor(name: string, external: boolean, path?: string) {
    this.name = name;
    this.external = external;
    this.path = path;
    this.state = external ? 'Started' : 'Registered';
  }

  subscribes(event: 'INVOKE' | 'SHUTDOWN'): boolean {
    return this.events.includes(event);
  }

  info(): ExtensionInfo {
    return {
      name: this.name,
      external: this.external,
      id: this.id,
      pid: this.process?.pid,
      state: this.state,
      events: [...this.events],
      errorType: this.errorType,
    };
  }
}

/** Why a registration was refused (each kind has its own error answer in the Extensions API). */
export type RegistrationRefusal =
  | { kind: 'closed' }
  | { kind: 'name-collision' }
  | { kind: 'too-many' }
  | { kind: 'state'; from: ExtensionState };

/**
 * Agents of one Init generation: external ones launched from the extensions directory, internal ones that registered
 * under any other name. Pure bookkeeping; the HTTP layer and the sandbox drive the transitions.
 */
export class ExtensionRegistry {
  readonly #byId = new Map<string, Agent>();
  readonly external = new Map<string, Agent>();
  readonly internal = new Map<string, Agent>();
  /** Turned off when the runtime calls /next for the first time (no new internal extensions). */
  registrationOpen = true;
  /** SnapStart: identifiers to issue by extension name (those of the snapshot being restored), else random ones. */
  readonly #identifiers: Readonly<Record<string, string>>;

  constructor(identifiers: Readonly<Record<string, string>> = {}) {
    this.#identifiers = identifiers;
  }

  /** Lambda-Extension-Identifier per registered extension name. */
  identifiers(): Record<string, string> {
    return Object.fromEntries(this.registered().map((agent) => [agent.name, agent.id!]));
  }

  /** Records an external extension the platform launched (state Started). */
  addLaunched(name: string, path: string): Agent {
    const agent = new Agent(name, true, path);
    this.external.set(name, agent);
    return agent;
  }

  byId(id: string): Agent | undefined {
    return this.#byId.get(id);
  }

  /** All agents in registration order: external first (launch order), then internal. */
  all(): Agent[] {
    return [...this.external.values(), ...this.internal.values()];
  }

  /** Agents that completed registration. */
  registered(): Agent[] {
    return this.all().filter((agent) => agent.id !== undefined);
  }

  /** Registers an external agent by name; returns a refusal when its state does not allow it. */
  registerExternal(agent: Agent, events: string[]): RegistrationRefusal | undefined {
    if (agent.state !== 'Started') return { kind: 'state', from: agent.state };
    agent.id = this.#identifiers[agent.name] ?? randomUUID();
    agent.events = events;
    agent.state = 'Registered';
    this.#byId.set(agent.id, agent);
    return undefined;
  }

  /** Creates and registers an internal agent (RAPID `CreateInternalAgent` + `Register`). */
  registerInternal(name: string, events: string[]): Agent | RegistrationRefusal {
    if (!this.registrationOpen) return { kind: 'closed' };
    if (this.internal.has(name)) return { kind: 'name-collision' };
    if (this.external.size + this.internal.size >= MAX_EXTENSIONS) return { kind: 'too-many' };
    const agent = new Agent(name, false);
    agent.id = this.#identifiers[name] ?? randomUUID();
    agent.events = events;
    this.internal.set(name, agent);
    this.#byId.set(agent.id, agent);
    return agent;
  }
}
