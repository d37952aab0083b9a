import { createRequire } from 'node:module';
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { logger } from '../logger.js';

export interface Tracing {
  /** Exports the spans still buffered. */
  flush(): Promise<void>;
  /** Flushes, stops exporting, and unregisters the provider (the API is a no-op again). */
  shutdown(): Promise<void>;
}

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * Registers the OpenTelemetry SDK for this process: a NodeTracerProvider (AsyncLocalStorage
 * context, W3C trace-context propagation) whose spans go through a BatchSpanProcessor to
 * `exporter`, by default OTLP over HTTP configured by the standard variables
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, …_HEADERS, …; sampling
 * with OTEL_TRACES_SAMPLER). The service is `relate` unless OTEL_SERVICE_NAME (or
 * OTEL_RESOURCE_ATTRIBUTES) says otherwise.
 *
 * The server calls it only when an endpoint is configured (Config.tracing), and adds the tracing
 * plugin only then; tests call it with an in-memory exporter. Until it is called every
 * @opentelemetry/api call is a no-op.
 */
export function startTracing(exporter: SpanExporter = new OTLPTraceExporter()): Tracing {
  // Export failures (a collector away) reach the log, once per failed batch.
  diag.setLogger(
    {
      error: (message, ...args) => logger.warn(`tracing: ${message}`, ...args),
      warn: (message, ...args) => logger.warn(`tracing: ${message}`, ...args),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'relate', [ATTR_SERVICE_VERSION]: version }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}
