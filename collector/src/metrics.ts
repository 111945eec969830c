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
  };
}

/** Gauges sampled at scrape time. */
export interface MetricGauges {
  liveClients: number;
  dbSizeBytes: number;
  storedEvents: number;
  environments: number;
  headCursor: number;
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
  return `${lines.join('\n')}\n`;
}
