import type { Attributes, ObservableResult } from "@opentelemetry/api";

/**
 * Counts kept in a Map and handed to OpenTelemetry as observable counters at export time: on the
 * hot path a count costs a Map increment, not an attribute-hashing instrument call per request.
 */
export class Tally {
  private readonly counts = new Map<string, { attributes: Attributes; value: number }>();

  add(key: string, attributes: () => Attributes): void {
    const entry = this.counts.get(key);
    if (entry) entry.value++;
    else this.counts.set(key, { attributes: attributes(), value: 1 });
  }

  /**
   * The count under `key`, bound once: each call then costs an increment, with no key to build or look
   * up. The series appears at its first count, as with add (shared with add's for the same key).
   */
  bind(key: string, attributes: Attributes): () => void {
    let entry: { attributes: Attributes; value: number } | undefined;
    return () => {
      if (entry === undefined) {
        entry = this.counts.get(key) ?? { attributes, value: 0 };
        this.counts.set(key, entry);
      }
      entry.value++;
    };
  }

  observe(result: ObservableResult): void {
    for (const { attributes, value } of this.counts.values()) result.observe(value, attributes);
  }

  values(): Iterable<{ readonly attributes: Attributes; readonly value: number }> {
    return this.counts.values();
  }
}

/** One histogram's explicit-bucket state per attribute set, as a MetricProducer hands it to the SDK. */
export interface HistogramSnapshot {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly boundaries: readonly number[];
  readonly series: readonly {
    readonly attributes: Attributes;
    readonly counts: readonly number[];
    readonly sum: number;
    readonly count: number;
    readonly min: number;
    readonly max: number;
  }[];
}

/** Where pre-aggregated histograms are registered for export (src/telemetry/histogram-producer.ts). */
export interface HistogramExport {
  register(snapshot: () => HistogramSnapshot): void;
}

interface Series {
  readonly attributes: Attributes;
  readonly counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

/**
 * An explicit-bucket histogram aggregated here and exported through the SDK's MetricProducer hook: a
 * value on the hot path costs a Map lookup and a bucket search, where the SDK's histogram instrument
 * sorts and JSON-encodes the attributes of every single value it records (about 2 µs per request).
 * Cumulative, like the SDK's default.
 */
export class HistogramTally {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly descriptor: { name: string; description: string; unit: string },
    private readonly boundaries: readonly number[],
  ) {}

  record(key: string, attributes: () => Attributes, value: number): void {
    let series = this.series.get(key);
    if (!series) {
      series = this.newSeries(attributes());
      this.series.set(key, series);
    }
    this.add(series, value);
  }

  /** The series under `key`, bound once (see Tally.bind); it appears at its first value. */
  bind(key: string, attributes: Attributes): (value: number) => void {
    let series: Series | undefined;
    return (value) => {
      if (series === undefined) {
        series = this.series.get(key) ?? this.newSeries(attributes);
        this.series.set(key, series);
      }
      this.add(series, value);
    };
  }

  private newSeries(attributes: Attributes): Series {
    return {
      attributes,
      counts: new Array(this.boundaries.length + 1).fill(0),
      sum: 0,
      count: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    };
  }

  private add(series: Series, value: number): void {
    let bucket = 0;
    while (bucket < this.boundaries.length && value > (this.boundaries[bucket] as number)) bucket++;
    (series.counts[bucket] as number)++;
    series.sum += value;
    series.count++;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
  }

  snapshot(): HistogramSnapshot {
    return {
      ...this.descriptor,
      boundaries: this.boundaries,
      series: [...this.series.values()].map((series) => ({ ...series, counts: [...series.counts] })),
    };
  }
}
