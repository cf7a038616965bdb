import Sinks
import SystemSupport
import Tailing

/// Makes checkpoints durable off the reading thread. Writing one costs two or three fsyncs (the file
/// sinks' output, the checkpoint's temporary file, its directory), milliseconds each on a busy disk,
/// and on the reading thread that was the tail of the follow latency once a checkpoint interval. The
/// order that makes a checkpoint true stays: the sinks' syncs run first, then the checkpoint is written;
/// the reading loop learns the outcome on a later pass and only then counts the checkpoint as saved.
/// One job at a time: a checkpoint taken while one is being written waits for the next interval.
final class CheckpointWriter: @unchecked Sendable {  // `job`, `outcome` and `stopping` under `monitor`
    struct Job {
        var syncs: [SinkSync]
        var checkpoint: Checkpoint
        var path: String
    }

    enum Outcome {
        case saved(Checkpoint)
        /// A sink's sync failed: delivery ends (as a failed flush always did); nothing was written.
        case sinkFailed(SinkFailure, sink: String)
        case notSaved(Checkpoint, SystemError)
    }

    private let monitor = Monitor()
    private var job: Job?
    private var outcome: Outcome?
    private var stopping = false
    private var thread: NamedThread?
    /// Wakes the reading loop, so it takes the outcome now rather than at its next poll tick.
    private let wake: @Sendable () -> Void

    init(wake: @escaping @Sendable () -> Void) { self.wake = wake }

    /// A job is being written, or its outcome not yet taken.
    var isBusy: Bool { monitor.withLock { job != nil || outcome != nil } }

    /// Hands `job` to the thread (started with the first job); when no thread can be started, runs it here.
    func submit(_ job: Job) {
        if thread == nil {
            thread = try? NamedThread.start(name: "checkpoint") { [self] in serve() }
        }
        guard thread != nil else {
            let result = Self.run(job)
            monitor.withLock { outcome = result }
            return
        }
        monitor.withLock {
            self.job = job
            monitor.broadcast()
        }
    }

    func takeOutcome() -> Outcome? {
        monitor.withLock {
            defer { outcome = nil }
            return outcome
        }
    }

    /// Waits for the job in hand, if any, and returns its outcome.
    func finish() -> Outcome? {
        monitor.withLock {
            while job != nil { monitor.wait(milliseconds: 100) }
        }
        return takeOutcome()
    }

    /// Lets the job in hand finish, then ends the thread.
    func stop() {
        monitor.withLock {
            stopping = true
            monitor.broadcast()
        }
        thread?.join()
    }

    private func serve() {
        while true {
            let next: Job? = monitor.withLock {
                // Woken by `submit` and `stop`: an idle daemon's checkpoint thread never wakes on its own.
                while job == nil && !stopping { monitor.wait(milliseconds: 3_600_000) }
                return job
            }
            guard let next else { return }
            let result = Self.run(next)
            monitor.withLock {
                (job, outcome) = (nil, result)
                monitor.broadcast()
            }
            wake()
        }
    }

    private static func run(_ job: Job) -> Outcome {
        for sync in job.syncs {
            do throws(SinkFailure) { try sync.run() } catch { return .sinkFailed(error, sink: sync.sink) }
        }
        do throws(SystemError) {
            try job.checkpoint.save(to: job.path)
            return .saved(job.checkpoint)
        } catch {
            return .notSaved(job.checkpoint, error)
        }
    }
}
