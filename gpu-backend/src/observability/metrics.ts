import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];

/** Prometheus metrics of one app instance (its own registry, so tests can build many apps). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bgremove_' });
  return {
    registry,
    inferences: new Counter({
      name: 'bgremove_inferences_total',
      help: 'Model runs (warm-up runs included), by model and outcome.',
      labelNames: ['model', 'outcome'] as const,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'bgremove_requests_total',
      help: 'HTTP requests by route, status and error code.',
      labelNames: ['route', 'status', 'code'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'bgremove_request_duration_seconds',
      help: 'HTTP request latency by route.',
      labelNames: ['route'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    stageDuration: new Histogram({
      name: 'bgremove_stage_duration_seconds',
      help: 'Pipeline stage latency (decode, queue, preprocess, inference, postprocess, encode).',
      labelNames: ['stage', 'model'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    deadlineRefusals: new Counter({
      name: 'bgremove_deadline_refusals_total',
      help: "Requests refused because they could not finish before the caller's deadline: at admission, or dropped from the queue.",
      labelNames: ['at'] as const,
      registers: [registry],
    }),
    undeliveredResponses: new Counter({
      name: 'bgremove_responses_undelivered_total',
      help: 'Answers whose connection closed before they were sent in full: the client stopped reading (idle_timeout) or went away (closed).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'bgremove_queue_depth',
      help: 'Requests waiting for a pipeline slot.',
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'bgremove_in_flight',
      help: 'Requests being processed.',
      registers: [registry],
    }),
    sessionWorkersLost: new Counter({
      name: 'bgremove_session_workers_lost_total',
      help: 'Session processes (one ONNX session each) that died and were replaced.',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    modelReady: new Gauge({
      name: 'bgremove_model_ready',
      help: '1 when the model is loaded and warmed.',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
