// The history recorder: tests, simulations and benchmarks record what their clients did, in the
// format of docs/history-format.md, one line per operation written when it ends. The recorder
// reads no clock of its own: times come from an injected `now` (integer nanoseconds on one
// clock shared by every client, e.g. the virtual clock of a simulation) or are passed in.
// It does no I/O either: lines go to `onLine` (a file writer, say) and/or are kept in memory.

/** What a client asks for (the request half of a line). */
export type OpRequest =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expect: string | null; readonly value: string }
  | { readonly op: 'cas'; readonly key: string; readonly expectRev: number; readonly value: string }
  | { readonly op: 'register'; readonly key: string; readonly value: string }
  | { readonly op: 'unregister'; readonly key: string; readonly value: string; readonly fence?: number }
  | { readonly op: 'lookup'; readonly key: string };

/** What a completed operation observed (fields as the format names them). */
export interface OpResult {
  readonly ok?: boolean;
  readonly read?: string | null;
  readonly rev?: number;
  readonly fence?: number;
}

/** How an error ends an operation: indeterminate (the safe default) or a definite failure. */
export type ErrorOutcome = { readonly kind: 'timeout' } | { readonly kind: 'failed'; readonly error: string };

export interface RecorderOptions {
  /** The shared clock, integer nanoseconds <= 2^53 - 1; needed unless every call passes `at`. */
  readonly now?: () => number;
  /** Told of every line as it is written (without a newline). */
  readonly onLine?: (line: string) => void;
  /** Keep lines in memory for `lines()` / `text()` (default true; a long benchmark streams instead). */
  readonly keep?: boolean;
}

/** An operation invoked and not yet ended; end it exactly once. */
export interface PendingOp {
  /** Completed, with what the client observed. */
  ok(result?: OpResult, at?: number): void;
  /** Indeterminate: the client cannot know whether it took effect. */
  timeout(at?: number): void;
  /** Definite failure: the system guarantees it did not and will not take effect. */
  fail(error: string, at?: number): void;
}

export class HistoryRecorder {
  readonly #opts: RecorderOptions;
  readonly #lines: string[] = [];
  #pending = new Set<() => void>();
  #written = 0;

  constructor(opts: RecorderOptions = {}) {
    this.#opts = opts;
  }

  /** Operations invoked and not yet ended. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Lines written so far (kept or not). */
  get written(): number {
    return this.#written;
  }

  /** Records the invocation; the line is written when the returned handle is ended. */
  invoke(
    client: number | string,
    request: OpRequest,
    opts: { at?: number; extra?: Readonly<Record<string, unknown>> } = {},
  ): PendingOp {
    const call = this.#time(opts.at);
    let ended = false;
    const base: Record<string, unknown> = { ...opts.extra, client, ...request, call };
    const finish = (fields: Record<string, unknown>): void => {
      if (ended) throw new Error(`operation ${request.op} ${request.key} of client ${client} ended twice`);
      ended = true;
      this.#pending.delete(onClose);
      this.#write({ ...base, ...fields });
    };
    const onClose = (): void => finish({ ret: null, error: 'timeout' });
    this.#pending.add(onClose);
    const at = (t?: number): number => {
      const ret = this.#time(t);
      if (ret < call) throw new Error(`ret ${ret} is before call ${call}`);
      return ret;
    };
    return {
      ok: (result = {}, t) => {
        const fields: Record<string, unknown> = { ret: at(t) };
        for (const [k, v] of Object.entries(result)) if (v !== undefined) fields[k] = v;
        if (request.op === 'put' || request.op === 'get' || request.op === 'lookup') fields.ok = true;
        if ((request.op === 'get' || request.op === 'lookup') && !('read' in fields))
          throw new Error(`a completed ${request.op} needs what it read`);
        if (
          (request.op === 'cas' || request.op === 'register' || request.op === 'unregister') &&
          result.ok === undefined
        )
          throw new Error(`a completed ${request.op} needs ok`);
        finish(fields);
      },
      timeout: (t) => finish({ ret: t === undefined && this.#opts.now === undefined ? null : at(t), error: 'timeout' }),
      fail: (error, t) => {
        if (error === 'timeout') throw new Error('a definite failure cannot be called "timeout"');
        finish({ ret: at(t), error });
      },
    };
  }

  /**
   * Runs `fn` as one operation: its value is turned into the result by `result`; an error is
   * indeterminate unless `classify` says it is a definite failure (when in doubt: timeout).
   * The value is returned and the error rethrown, so the caller's code stays as it was.
   */
  async run<T>(
    client: number | string,
    request: OpRequest,
    fn: () => Promise<T>,
    result: (value: T) => OpResult,
    classify: (err: unknown) => ErrorOutcome = () => ({ kind: 'timeout' }),
  ): Promise<T> {
    const op = this.invoke(client, request);
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      const outcome = classify(err);
      if (outcome.kind === 'failed') op.fail(outcome.error);
      else op.timeout();
      throw err;
    }
    op.ok(result(value));
    return value;
  }

  /** Ends every pending operation as indeterminate (the run is over, their outcome unknown). */
  close(): void {
    for (const end of [...this.#pending]) end();
  }

  /** The kept lines. */
  lines(): readonly string[] {
    return this.#lines;
  }

  /** The kept lines as JSON Lines text. */
  text(): string {
    return this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`;
  }

  #time(at: number | undefined): number {
    const t = at ?? this.#opts.now?.();
    if (t === undefined) throw new Error('the recorder has no clock: pass `now` or a time');
    if (!Number.isSafeInteger(t) || t < 0) throw new Error(`a time is an integer number of nanoseconds, got ${t}`);
    return t;
  }

  #write(fields: Record<string, unknown>): void {
    const line = JSON.stringify(fields);
    this.#written++;
    if (this.#opts.keep !== false) this.#lines.push(line);
    this.#opts.onLine?.(line);
  }
}
