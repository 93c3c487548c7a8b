// The OpenTelemetry SDK of a node with an admin server: one MeterProvider whose reader is a
// PrometheusExporter that never opens its own port; /metrics collects it on request and serves
// the text from the admin server. The SDK lives here (and in cli/) only: the library below talks
// to @opentelemetry/api, and the Cluster hands this provider's meter to every subsystem.
import type { Histogram, Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, InstrumentType, MeterProvider, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { BYTES_BUCKETS, MILLISECONDS_BUCKETS, SECONDS_BUCKETS } from './buckets.js';

const bucketsFor = (unit: string, boundaries: readonly number[]): ViewOptions => ({
  instrumentType: InstrumentType.HISTOGRAM,
  instrumentUnit: unit,
  aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...boundaries] } },
});

/** The admin server's own instruments (requests by route and status, their duration and size). */
export interface AdminInstruments {
  readonly duration: Histogram;
  readonly size: Histogram;
}

export class AdminMetrics {
  readonly provider: MeterProvider;
  /** The meter the Cluster gives its subsystems (named `troupe`, as the global one would be). */
  readonly meter: Meter;
  readonly instruments: AdminInstruments;
  readonly #exporter: PrometheusExporter;
  readonly #serializer = new PrometheusSerializer();

  constructor(options: { readonly node: string; readonly version: string }) {
    this.#exporter = new PrometheusExporter({ preventServerStart: true });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'troupe', 'service.instance.id': options.node }),
      readers: [this.#exporter],
      views: [
        bucketsFor('s', SECONDS_BUCKETS),
        bucketsFor('ms', MILLISECONDS_BUCKETS),
        bucketsFor('By', BYTES_BUCKETS),
      ],
    });
    this.meter = this.provider.getMeter('troupe', options.version);
    this.instruments = {
      duration: this.meter.createHistogram('troupe.admin.request.duration', {
        unit: 's',
        description: 'Admin HTTP requests, from the head read to the answer sent, by route and status',
      }),
      size: this.meter.createHistogram('troupe.admin.response.size', {
        unit: 'By',
        description: 'Bytes of admin HTTP answers (event streams not included), by route',
      }),
    };
  }

  /** Collects every instrument now and renders the Prometheus text exposition format. */
  async render(): Promise<string> {
    const { resourceMetrics } = await this.#exporter.collect();
    return this.#serializer.serialize(resourceMetrics);
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
