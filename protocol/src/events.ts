import { type Static, Type } from 'typebox';

/**
 * Lifecycle events: what the extension records and the collector stores.
 *
 * Every event carries the envelope `id`, `envId`, `seq`, `time`, `type`. Times are epoch milliseconds; `time` is the
 * extension's clock, `recordTime` (platform events) is the platform's. Never subtract a collector timestamp from either.
 */

/** Bounds that keep one hostile event from costing the collector much; the body limit bounds the batch. */
export const LIMITS = {
  idLength: 200,
  shortString: 256,
  longString: 2048,
  batchEvents: 5000,
} as const;

const Short = (options: object = {}) => Type.String({ maxLength: LIMITS.shortString, ...options });
const Long = (options: object = {}) => Type.String({ maxLength: LIMITS.longString, ...options });
const EpochMs = Type.Number({ minimum: 0, maximum: 8.64e15 });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const DurationMs = Type.Number({ minimum: 0, maximum: 8.64e15 });

/** Fields every event has. */
export const EventEnvelope = {
  /** Unique per event; the idempotency key (the extension uses `${envId}:${seq}`). */
  id: Type.String({ minLength: 1, maxLength: LIMITS.idLength }),
  /**
   * The execution environment: the Lambda-Extension-Identifier of the Lifeline registration, or, in an environment
   * restored from a SnapStart snapshot, an id the extension minted at restore (see `RegisterEvent.restoredFrom`).
   */
  envId: Type.String({ minLength: 1, maxLength: LIMITS.idLength }),
  /** Gapless per envId, in the order the extension observed events, starting at 0. */
  seq: Count,
  /** Epoch ms on the extension's clock. */
  time: EpochMs,
};

export const EVENT_TYPES = [
  'register',
  'invoke',
  'shutdown',
  'platform',
  'exit',
  'dropped',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** How the Telemetry API subscription went, as seen by the extension. */
export const TELEMETRY_STATES = ['subscribed', 'unsupported', 'disabled', 'failed'] as const;

/** Extensions API events an extension can register for. */
export const REGISTERED_EVENTS = ['INVOKE', 'SHUTDOWN'] as const;

export const RegisterEvent = Type.Object(
  {
    ...EventEnvelope,
    type: Type.Literal('register'),
    functionName: Short({ minLength: 1 }),
    functionVersion: Short(),
    handler: Short(),
    accountId: Type.Optional(Short()),
    region: Type.Optional(Short()),
    memorySizeMb: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    /** AWS_EXECUTION_ENV when visible (runtime-only in production), else the platform's runtimeVersion. */
    runtime: Type.Optional(Short()),
    /** AWS_LAMBDA_INITIALIZATION_TYPE: on-demand, provisioned-concurrency, snap-start, … */
    initializationType: Short(),
    /** x86_64 or arm64. */
    architecture: Short(),
    extensionName: Short(),
    extensionVersion: Short(),
    /** The extension's own process start → registered, on its clock. */
    startToRegisteredMs: DurationMs,
    /**
     * The extension's own process start → its first `/event/next` went out, on its clock: the extension's share of
     * the Init phase (Init waits for every extension's first `/event/next`; billed since August 2025). Absent from
     * older extensions and from environments restored from a SnapStart snapshot.
     */
    startToReadyMs: Type.Optional(DurationMs),
    /** Stable across resets of one sandbox (kept under /tmp): groups re-initialisations. */
    sandboxId: Type.Optional(Short()),
    /** The envId that registered before this one in the same sandbox, if any. */
    previousEnvId: Type.Optional(Short()),
    telemetry: Type.Optional(Type.Enum(TELEMETRY_STATES)),
    /**
     * The Extensions API events the registration got (absent from older extensions: both). Without `INVOKE` (Lambda
     * Managed Instances accept `SHUTDOWN` only) there are no `invoke` events: invokes are known from `platform.start`
     * / `platform.report` records alone, and several may run at once.
     */
    registeredEvents: Type.Optional(
      Type.Array(Type.Enum(REGISTERED_EVENTS), {
        maxItems: REGISTERED_EVENTS.length,
        uniqueItems: true,
      }),
    ),
    /**
     * SnapStart: this environment was restored from a snapshot whose own environment (the INIT at publish) has this
     * envId. The restored environment's envId is minted by the extension at restore, since every copy of a snapshot
     * presents the same extension identifier; its register event is written then (`startToRegisteredMs` is 0).
     */
    restoredFrom: Type.Optional(Short()),
  },
  { additionalProperties: false },
);
export type RegisterEvent = Static<typeof RegisterEvent>;

export const InvokeEvent = Type.Object(
  {
    ...EventEnvelope,
    type: Type.Literal('invoke'),
    requestId: Short({ minLength: 1 }),
    deadlineMs: EpochMs,
    invokedFunctionArn: Long(),
    traceId: Type.Optional(Long()),
  },
  { additionalProperties: false },
);
export type InvokeEvent = Static<typeof InvokeEvent>;

export const ShutdownEvent = Type.Object(
  {
    ...EventEnvelope,
    type: Type.Literal('shutdown'),
    /** Exactly as received: production sends spindown|timeout|failure, emulators other strings. */
    shutdownReason: Short(),
    deadlineMs: EpochMs,
  },
  { additionalProperties: false },
);
export type ShutdownEvent = Static<typeof ShutdownEvent>;

export const PlatformEvent = Type.Object(
  {
    ...EventEnvelope,
    type: Type.Literal('platform'),
    /** The Telemetry API event type, e.g. platform.report. */
    recordType: Type.String({ pattern: '^platform\\.[A-Za-z]+$', maxLength: 64 }),
    /** The Telemetry API event's own `time`, converted once to epoch ms (platform clock). */
    recordTime: EpochMs,
    /** The Telemetry API `record`, unchanged. */
    record: Type.Union([Type.Record(Type.String(), Type.Unknown()), Long()]),
  },
  { additionalProperties: false },
);
export type PlatformEvent = Static<typeof PlatformEvent>;

export const ExitEvent = Type.Object(
  {
    ...EventEnvelope,
    type: Type.Literal('exit'),
    /** SHUTDOWN received → this record, on the extension's clock. Absent if it exits without a SHUTDOWN. */
    shutdownMs: Type.Optional(DurationMs),
    /** Events of this envId the collector acknowledged before this record. */
    delivered: Count,
    /** Events of this envId the extension had to drop in its lifetime. */
    dropped: Count,
    /** Events still unacknowledged when this record was written (they travel with it). */
    pending: Count,
  },
  { additionalProperties: false },
);
export type ExitEvent = Static<typeof ExitEvent>;

export const DROP_REASONS = ['buffer-full', 'spool-full', 'rejected', 'deadline'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const DroppedEvent = Type.Object(
  {
    ...EventEnvelope,
    type: Type.Literal('dropped'),
    count: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    reason: Type.Enum(DROP_REASONS),
    /** The seq range lost (inclusive), so a gap in seq can be explained. */
    fromSeq: Count,
    toSeq: Count,
  },
  { additionalProperties: false },
);
export type DroppedEvent = Static<typeof DroppedEvent>;

export const LifelineEvent = Type.Union([
  RegisterEvent,
  InvokeEvent,
  ShutdownEvent,
  PlatformEvent,
  ExitEvent,
  DroppedEvent,
]);
export type LifelineEvent = Static<typeof LifelineEvent>;

/** The schema for each event type, for dispatch on `type`. */
export const EVENT_SCHEMAS = {
  register: RegisterEvent,
  invoke: InvokeEvent,
  shutdown: ShutdownEvent,
  platform: PlatformEvent,
  exit: ExitEvent,
  dropped: DroppedEvent,
} as const;

/** `POST /v1/events` body. */
export const IngestBatch = Type.Object(
  {
    events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: LIMITS.batchEvents }),
  },
  { additionalProperties: false },
);
export interface IngestBatch {
  events: LifelineEvent[];
}

/** `POST /v1/events` success answer: sent only after the batch is committed. */
export const IngestAck = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
});
export type IngestAck = Static<typeof IngestAck>;

/** Error answer of every collector route. */
export const ApiError = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  /** For ingest: where exactly the batch was invalid. */
  details: Type.Optional(
    Type.Array(
      Type.Object({
        index: Type.Optional(Type.Integer()),
        path: Type.String(),
        message: Type.String(),
      }),
    ),
  ),
});
export type ApiError = Static<typeof ApiError>;
