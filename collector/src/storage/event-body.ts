/**
 * The stored form of an event's JSON text, about a third smaller, decoded by the database itself.
 *
 * Ingest keeps each event as the JSON text `JSON.stringify` made of it (`/v1/events`, replays and the live socket
 * send it back verbatim). Most of that text repeats from event to event: the envelope's id and envId, which the
 * events table holds in columns anyway, and the key names of the Lambda records. The stored `data` column holds:
 *
 * - the text unchanged when it starts with `{` (rows stored before migration 007, and text holding a control
 *   character, which `JSON.stringify` never writes but which may come from elsewhere);
 * - else a marker, then the text with each {@link PHRASES} entry replaced by one control character (code 3 + its
 *   index). `JSON.stringify` escapes every character below U+0020, so such characters never occur in the text
 *   and the replacement is reversed exactly. With marker 1 the leading `{"id":"<id>","envId":"<envId>"` was
 *   removed too (it is rebuilt from the id and envId columns); with marker 2 it was not (the text did not start
 *   with exactly that).
 *
 * The `body` the readers select is computed from `data` by SQL written once per backend from these phrases
 * (migrations sqlite/007 as a virtual generated column, postgres/003 as a function behind the `events` view), so
 * every reader gets the original text byte for byte without knowing about the encoding. The phrase list is part of
 * the stored format: never change or reorder an entry; new phrases would need a new marker and migration.
 */
export const PHRASES: readonly string[] = [
  ',"type":"platform","recordType":"platform.',
  ',"recordTime":',
  ',"record":{"requestId":"',
  '"metrics":{"durationMs":',
  ',"status":"success"',
  ',"billedDurationMs":',
  ',"memorySizeMB":',
  ',"maxMemoryUsedMB":',
  ',"initDurationMs":',
  ',"spans":[{"name":"extensionOverhead","start":"',
  ',"durationMs":',
  ',"type":"invoke","requestId":"',
  ',"deadlineMs":',
  ',"invokedFunctionArn":"arn:aws:lambda:',
  ',"traceId":"Root=1-',
  ',"seq":',
  ',"time":',
  '"initializationType":"on-demand"',
  '"phase":"init"',
  ',"record":{',
  ',"type":"shutdown","shutdownReason":"',
  ',"type":"exit","shutdownMs":',
  ',"delivered":',
  ',"type":"register","functionName":"',
  '","functionVersion":"',
  '","handler":"',
  '","region":"',
  '"version":"$LATEST"',
  ',"runtime":"AWS_Lambda_',
];

/** First character of `data`: the text follows with its envelope removed (1) or whole (2), phrases replaced. */
const WITHOUT_ENVELOPE = '\u0001';
const WITH_ENVELOPE = '\u0002';
const FIRST_CODE = 3;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON.stringify never writes these, so they are free
const CONTROL = /[\u0000-\u001f]/;

/** The stored `data` of an event's JSON text (see the module comment). */
export function encodeEventBody(id: string, envId: string, body: string): string {
  if (CONTROL.test(body)) return body;
  const envelope = `{"id":"${id}","envId":"${envId}"`;
  let data = body.startsWith(envelope)
    ? WITHOUT_ENVELOPE + body.slice(envelope.length)
    : WITH_ENVELOPE + body;
  PHRASES.forEach((phrase, index) => {
    data = data.replaceAll(phrase, String.fromCharCode(FIRST_CODE + index));
  });
  return data;
}

/** The JSON text back from `data` (the SQL of the migrations does the same; tests hold them together). */
export function decodeEventBody(id: string, envId: string, data: string): string {
  if (data.startsWith('{')) return data;
  let text = data.slice(1);
  PHRASES.forEach((phrase, index) => {
    text = text.replaceAll(String.fromCharCode(FIRST_CODE + index), phrase);
  });
  return data.startsWith(WITHOUT_ENVELOPE) ? `{"id":"${id}","envId":"${envId}"${text}` : text;
}

/** The SQL expression of the text from `data`, `id` and `envId` columns (quoting as given); for the migrations. */
export function decodeEventBodySql(
  data: string,
  id: string,
  envId: string,
  char: (code: number) => string,
): string {
  let text = `substr(${data}, 2)`;
  PHRASES.forEach((phrase, index) => {
    text = `replace(${text}, ${char(FIRST_CODE + index)}, '${phrase}')`;
  });
  return `CASE WHEN substr(${data}, 1, 1) = '{' THEN ${data}
  WHEN substr(${data}, 1, 1) = ${char(1)} THEN '{"id":"' || ${id} || '","envId":"' || ${envId} || '"' || ${text}
  ELSE ${text} END`;
}
