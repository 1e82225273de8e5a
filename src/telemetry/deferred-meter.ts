import type {
  Attributes,
  BatchObservableCallback,
  Context,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from "@opentelemetry/api";

/** A synchronous instrument's one method, whatever it is called: add (counters) or record. */
type Recorder = (value: number, attributes?: Attributes, context?: Context) => void;
type SyncKind = "createCounter" | "createUpDownCounter" | "createHistogram" | "createGauge";
type ObservableKind = "createObservableCounter" | "createObservableUpDownCounter" | "createObservableGauge";

/** Records given before the SDK is there, in order; a count is never dropped, only held. */
class HeldInstrument {
  private held: [number, Attributes | undefined, Context | undefined][] = [];
  private target: Recorder = (value, attributes, context) => {
    this.held.push([value, attributes, context]);
    this.onHeld();
  };

  constructor(
    readonly kind: SyncKind,
    private readonly name: string,
    private readonly options: MetricOptions | undefined,
    private readonly onHeld: () => void,
  ) {}

  readonly add: Recorder = (value, attributes, context) => this.target(value, attributes, context);

  readonly record: Recorder = this.add;

  attach(meter: Meter): void {
    const real = meter[this.kind](this.name, this.options) as Partial<Counter & Histogram>;
    const send = ((real.add ?? real.record) as Recorder).bind(real);
    for (const [value, attributes, context] of this.held) send(value, attributes, context);
    // Stryker disable next-line ArrayDeclaration: only frees the records; nothing reads them after attach.
    this.held = [];
    this.target = send;
  }
}

/** Callbacks given before the SDK is there; the SDK calls them at each collection once attached. */
class HeldObservable implements Observable {
  private target: Observable | undefined;
  private readonly callbacks = new Set<ObservableCallback>();

  constructor(
    readonly kind: ObservableKind,
    private readonly name: string,
    private readonly options: MetricOptions | undefined,
  ) {}

  addCallback(callback: ObservableCallback): void {
    this.callbacks.add(callback);
    this.target?.addCallback(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    this.callbacks.delete(callback);
    this.target?.removeCallback(callback);
  }

  attach(meter: Meter): void {
    this.target = meter[this.kind](this.name, this.options);
    for (const callback of this.callbacks) this.target.addCallback(callback);
  }

  /** The SDK's instrument once attached, which is what a batch callback must observe. */
  get current(): Observable {
    return this.target ?? this;
  }
}

/** A batch callback made before the SDK was there observes held instruments: map them to the SDK's. */
function forSdk(callback: BatchObservableCallback): BatchObservableCallback {
  const current = (observable: Observable) =>
    observable instanceof HeldObservable ? observable.current : observable;
  return (result) =>
    callback({
      observe: (observable, value, attributes) => result.observe(current(observable), value, attributes),
    });
}

/**
 * A Meter that stands in for the SDK's until the SDK is loaded (console mode loads it at the first
 * scrape of GET /metrics, src/telemetry/console-telemetry.ts). Instruments made before then hold what
 * they are given and hand it over, in order, when `attach` gives them the real meter; afterwards
 * everything goes straight to the SDK. `onHeld` hears of every record held, so the owner can load the
 * SDK before the backlog grows (HELD_RECORDS_BEFORE_LOAD).
 */
export class DeferredMeter implements Meter {
  private real: Meter | undefined;
  private readonly instruments: (HeldInstrument | HeldObservable)[] = [];
  private readonly batches: [BatchObservableCallback, Observable[]][] = [];
  private heldRecords = 0;

  constructor(private readonly onBacklog: () => void) {}

  get attached(): boolean {
    return this.real !== undefined;
  }

  attach(meter: Meter): void {
    if (this.real) return;
    this.real = meter;
    for (const instrument of this.instruments) instrument.attach(meter);
    for (const [callback, observables] of this.batches) {
      const current = observables.map((observable) =>
        observable instanceof HeldObservable ? observable.current : observable,
      );
      meter.addBatchObservableCallback(forSdk(callback), current);
    }
    this.instruments.length = 0;
    this.batches.length = 0;
  }

  private held = () => {
    if (++this.heldRecords === HELD_RECORDS_BEFORE_LOAD) this.onBacklog();
  };

  private sync(kind: SyncKind, name: string, options?: MetricOptions): HeldInstrument {
    const instrument = new HeldInstrument(kind, name, options, this.held);
    this.instruments.push(instrument);
    return instrument;
  }

  private observable(kind: ObservableKind, name: string, options?: MetricOptions): HeldObservable {
    const observable = new HeldObservable(kind, name, options);
    this.instruments.push(observable);
    return observable;
  }

  createCounter(name: string, options?: MetricOptions): Counter {
    return this.real?.createCounter(name, options) ?? this.sync("createCounter", name, options);
  }

  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    return this.real?.createUpDownCounter(name, options) ?? this.sync("createUpDownCounter", name, options);
  }

  createHistogram(name: string, options?: MetricOptions): Histogram {
    return this.real?.createHistogram(name, options) ?? this.sync("createHistogram", name, options);
  }

  createGauge(name: string, options?: MetricOptions): Gauge {
    return this.real?.createGauge(name, options) ?? this.sync("createGauge", name, options);
  }

  createObservableCounter(name: string, options?: MetricOptions): ObservableCounter {
    return (
      this.real?.createObservableCounter(name, options) ??
      this.observable("createObservableCounter", name, options)
    );
  }

  createObservableUpDownCounter(name: string, options?: MetricOptions): ObservableUpDownCounter {
    return (
      this.real?.createObservableUpDownCounter(name, options) ??
      this.observable("createObservableUpDownCounter", name, options)
    );
  }

  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge {
    return (
      this.real?.createObservableGauge(name, options) ??
      this.observable("createObservableGauge", name, options)
    );
  }

  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    if (this.real) this.real.addBatchObservableCallback(callback, observables);
    else this.batches.push([callback, observables]);
  }

  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    if (this.real) {
      this.real.removeBatchObservableCallback(callback, observables);
      return;
    }
    const at = this.batches.findIndex(([held]) => held === callback);
    if (at >= 0) this.batches.splice(at, 1);
  }
}

/** Records held before the owner is asked to load the SDK: a bound on the backlog, not a limit. */
export const HELD_RECORDS_BEFORE_LOAD = 1_000;
