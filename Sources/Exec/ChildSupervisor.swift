import Configuration
import Logging
import Synchronization
import SystemSupport
import Telemetry

/// The reading loop's side of exec mode: starts the child, learns of its exit from the reaper, and
/// starts it again as `exec.restart` says, after the backoff. Finished once the child has exited and
/// no start is to follow (its policy, or a terminating signal forwarded to it).
package final class ChildSupervisor {
    private let config: ExecConfig
    private let watch: ChildWatch
    private let streams: ChildStreams
    private let counters: Counters
    private let logger: Logger
    private var backoff = Backoff.restart()
    /// The time restarts are scheduled on.
    private let clock: any TimeSource
    private var startedAtMs: Int64 = 0
    /// Monotonic ms of the next start, while the child waits out its backoff.
    package private(set) var restartAtMs: Int64?
    private(set) var lastExit: ExitStatus?
    package private(set) var finished = false

    package init(
        config: ExecConfig, watch: ChildWatch, streams: ChildStreams, counters: Counters, logger: Logger,
        clock: any TimeSource = SystemClock.shared
    ) {
        self.clock = clock
        self.config = config
        self.watch = watch
        self.streams = streams
        self.counters = counters
        self.logger = logger
    }

    /// What log-sidecar exits with: the child's status, as a shell reports it.
    package var exitCode: Int32 { lastExit?.code ?? 0 }

    package func start() throws(SpawnError) {
        guard let started = try watch.spawn(config.command) else {
            finished = true
            logger.info("stopped by a signal before the application was started")
            return
        }
        startedAtMs = clock.monotonicMs()
        streams.add(stdout: started.stdout, stderr: started.stderr)
        counters.childPid.store(Int(started.pid), ordering: .relaxed)
        counters.childRunning.store(true, ordering: .relaxed)
        counters.add(counters.childStarts, 1)
        logger.info("started the application", metadata: ["pid": "\(started.pid)", "command": "\(config.command.joined(separator: " "))"])
    }

    /// Takes an exit the reaper saw, and starts the child again when its backoff is over.
    package func step() throws(SpawnError) {
        let now = clock.monotonicMs()
        let stopping = watch.stopRequested.load(ordering: .sequentiallyConsistent)
        if let exit = watch.takeExit() {
            lastExit = exit
            counters.childRunning.store(false, ordering: .relaxed)
            counters.childLastExitCode.store(Int(exit.code), ordering: .relaxed)
            if watch.willRestart(after: exit) {
                let delay = backoff.delay(afterRunningMs: now - startedAtMs)
                restartAtMs = now + delay
                logger.warning(
                    "the application \(exit); starting it again", metadata: ["in_ms": "\(delay)", "restart": "\(config.restart.rawValue)"])
            } else {
                finished = true
                logger.info("the application \(exit)")
            }
        }
        guard let at = restartAtMs else { return }
        if stopping {
            restartAtMs = nil
            finished = true
        } else if now >= at {
            restartAtMs = nil
            try start()
            counters.add(counters.childRestarts, 1)
        }
    }
}
