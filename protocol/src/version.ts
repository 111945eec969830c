/** Version of the Lifeline wire format. Bump on any incompatible change to events, batches or live frames. */
export const PROTOCOL_VERSION = 1;
