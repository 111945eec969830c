/** Counters behind `GET /metrics`; gauges are read when scraped. */
export interface CollectorMetrics {
  ingestedEvents: number;
  duplicateEvents: number;
  acceptedBatches: number;
  /** Rejected ingest requests by HTTP status. */
  rejectedBatches: Map<number, number>;
  liveSlowConsumerCloses: number;
  retentionDeletedEvents: number;
  retentionDeletedEnvironments: number;
  /** Requests refused before routing, by reason (`host`, `origin`, `live_clients`). */
  refusedRequests: Map<string, number>;
  /** Requests Node's parser ended, by kind (`timeout`: not fully received within the request timeout). */
  clientErrors: Map<string, number>;
  /** Connections closed at once because `maxConnections` were open. */
  droppedConnections: number;
  /** Start-up WAL checks that found committed frames SQLite was about to discard (see storage wal-check). */
  walCutShort: number;
  /** Frames those checks found discarded. */
  walDiscardedFrames: number;
}

/** Fresh zeroed counters. */
export function createMetrics(): CollectorMetrics {
  return {
    ingestedEvents: 0,
    duplicateEvents: 0,
    acceptedBatches: 0,
    rejectedBatches: new Map(),
    liveSlowConsumerCloses: 0,
    retentionDeletedEvents: 0,
    retentionDeletedEnvironments: 0,
    refusedRequests: new Map(),
    clientErrors: new Map(),
    droppedConnections: 0,
    walCutShort: 0,
    walDiscardedFrames: 0,
  };
}

/** Gauges sampled at scrape time. */
export interface MetricGauges {
  liveClients: number;
  dbSizeBytes: number;
  storedEvents: number;
  environments: number;
  headCursor: number;
  /** Open TCP connections (live sockets included). */
  connections: number;
  /** Log lines the log output could not write. */
  logLinesDropped: number;
  /** The configured limits, reported so a scrape shows what the counters are measured against. */
  limits: {
    maxConnections: number;
    maxLiveClients: number;
    requestTimeoutSeconds: number;
    connectionTimeoutSeconds: number;
    bodyLimitBytes: number;
  };
}

function labelled(map: Map<string, number>, label: string): [string, number][] {
  const entries = [...map.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  return entries.length === 0 ? [['', 0]] : entries.map(([key, n]) => [`{${label}="${key}"}`, n]);
}

/** Renders the Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(metrics: CollectorMetrics, gauges: MetricGauges): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric('lifeline_ingested_events_total', 'counter', 'Events stored (duplicates excluded).', [
    ['', metrics.ingestedEvents],
  ]);
  metric('lifeline_duplicate_events_total', 'counter', 'Events skipped as already stored.', [
    ['', metrics.duplicateEvents],
  ]);
  metric('lifeline_accepted_batches_total', 'counter', 'Ingest batches committed.', [
    ['', metrics.acceptedBatches],
  ]);
  const rejected = [...metrics.rejectedBatches.entries()].sort((a, b) => a[0] - b[0]);
  metric(
    'lifeline_rejected_batches_total',
    'counter',
    'Ingest requests rejected, by HTTP status.',
    rejected.length === 0
      ? [['', 0]]
      : rejected.map(([status, count]) => [`{status="${status}"}`, count]),
  );
  metric('lifeline_live_clients', 'gauge', 'Connected live WebSocket clients.', [
    ['', gauges.liveClients],
  ]);
  metric(
    'lifeline_live_slow_consumer_closes_total',
    'counter',
    'Live clients closed with 4408 because their queue overflowed.',
    [['', metrics.liveSlowConsumerCloses]],
  );
  metric('lifeline_db_size_bytes', 'gauge', 'SQLite database bytes in use.', [
    ['', gauges.dbSizeBytes],
  ]);
  metric('lifeline_stored_events', 'gauge', 'Events currently stored.', [
    ['', gauges.storedEvents],
  ]);
  metric('lifeline_environments', 'gauge', 'Environments currently stored.', [
    ['', gauges.environments],
  ]);
  metric('lifeline_head_cursor', 'gauge', 'Newest event cursor.', [['', gauges.headCursor]]);
  metric('lifeline_retention_deleted_events_total', 'counter', 'Events deleted by retention.', [
    ['', metrics.retentionDeletedEvents],
  ]);
  metric(
    'lifeline_retention_deleted_environments_total',
    'counter',
    'Environments deleted by retention.',
    [['', metrics.retentionDeletedEnvironments]],
  );
  metric(
    'lifeline_refused_requests_total',
    'counter',
    'Requests refused before routing, by reason: host (Host name not answered), origin (foreign page), live_clients (cap reached).',
    labelled(metrics.refusedRequests, 'reason'),
  );
  metric(
    'lifeline_client_errors_total',
    'counter',
    'Requests ended by the HTTP parser, by kind: timeout (not received within the request timeout), header_overflow, error.',
    labelled(metrics.clientErrors, 'kind'),
  );
  metric('lifeline_connections', 'gauge', 'Open TCP connections.', [['', gauges.connections]]);
  metric(
    'lifeline_dropped_connections_total',
    'counter',
    'Connections closed at once because the connection cap was reached.',
    [['', metrics.droppedConnections]],
  );
  metric('lifeline_limit', 'gauge', 'Configured limits.', [
    ['{limit="max_connections"}', gauges.limits.maxConnections],
    ['{limit="max_live_clients"}', gauges.limits.maxLiveClients],
    ['{limit="request_timeout_seconds"}', gauges.limits.requestTimeoutSeconds],
    ['{limit="connection_timeout_seconds"}', gauges.limits.connectionTimeoutSeconds],
    ['{limit="body_limit_bytes"}', gauges.limits.bodyLimitBytes],
  ]);
  metric(
    'lifeline_log_lines_dropped_total',
    'counter',
    'Log lines dropped because the log output failed (full disk, closed pipe) or stopped reading.',
    [['', gauges.logLinesDropped]],
  );
  metric(
    'lifeline_wal_cut_short_total',
    'counter',
    'Start-up checks that found the SQLite WAL cut short: frames after a bad checksum, which SQLite discards.',
    [['', metrics.walCutShort]],
  );
  metric(
    'lifeline_wal_discarded_frames_total',
    'counter',
    'WAL frames those start-up checks found discarded.',
    [['', metrics.walDiscardedFrames]],
  );
  return `${lines.join('\n')}\n`;
}
