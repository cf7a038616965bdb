import SystemSupport

/// The thread under `BatchWriter`: one job at a time, handed over by the sink's `BatchWriter`, which
/// waits for it (`finish`) before anything else touches the sink.
final class WriteBehind: @unchecked Sendable {  // `job`, `busy`, `failure` and `stopping` under `monitor`
    private let monitor = Monitor()
    private var job: (() -> SinkFailure?)?
    private var busy = false
    private var failure: SinkFailure?
    private var stopping = false
    private var thread: NamedThread?

    /// nil when no thread can be started (the caller then writes on its own thread).
    static func start(name: String) -> WriteBehind? {
        let behind = WriteBehind()
        guard let thread = try? NamedThread.start(name: name, { behind.run() }) else { return nil }
        behind.thread = thread
        return behind
    }

    /// Runs `job` on the thread; the caller has finished the one before.
    func hand(_ job: @escaping () -> SinkFailure?) {
        monitor.withLock {
            self.job = job
            busy = true
            monitor.broadcast()
        }
    }

    /// Waits until the job handed over last is done; its failure, if it had one.
    func finish() -> SinkFailure? {
        monitor.withLock {
            while busy { monitor.wait(milliseconds: 60_000) }
            defer { failure = nil }
            return failure
        }
    }

    /// Finishes the job, if any, and joins the thread.
    func stop() {
        monitor.withLock {
            stopping = true
            monitor.broadcast()
        }
        thread?.join()
        thread = nil
    }

    private func run() {
        while let outcome = runNext() {
            monitor.withLock {
                failure = outcome
                busy = false
                monitor.broadcast()
            }
        }
    }

    /// Runs the next job: its failure, or nil (no failure) when it succeeded; nil (none) once stopped.
    /// The job, and the batch it holds, is released on return, before the caller hears it is done: the
    /// caller's batch is no longer shared when it fills it again.
    private func runNext() -> SinkFailure?? {
        guard let job = next() else { return nil }
        return .some(job())
    }

    private func next() -> (() -> SinkFailure?)? {
        monitor.withLock {
            while job == nil && !stopping { monitor.wait(milliseconds: 3_600_000) }
            defer { job = nil }
            return job
        }
    }
}
