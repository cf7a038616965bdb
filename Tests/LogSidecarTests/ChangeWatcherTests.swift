import Glibc
import Logging
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import Sinks
@testable import SystemSupport
@testable import Tailing

/// The watcher's fallback and recovery, with a scripted event source: no kernel limit needed.
@Suite("Change watcher")
struct ChangeWatcherTests {
    final class Script {
        var openError: Int32?
        var opened = 0
        var events = ScriptedDirectoryEvents()
        var reported: [Bool] = []
    }

    func watcher(_ script: Script) -> ChangeWatcher {
        ChangeWatcher(
            logger: Logger(label: "test"), retryIntervalMs: 1_000,
            open: { () throws(SystemError) -> any DirectoryEvents in
                script.opened += 1
                if let code = script.openError { throw SystemError(call: "inotify_init1", errno: code) }
                return script.events
            },
            reportActive: { script.reported.append($0) })
    }

    @Test("EMFILE at start: poll alone, retried only after the interval, then inotify")
    func instanceLimit() {
        let script = Script()
        script.openError = EMFILE
        let watcher = watcher(script)
        watcher.ensure(["/logs"], now: 0)
        #expect(!watcher.isActive && watcher.descriptor == nil)
        watcher.ensure(["/logs"], now: 500)
        #expect(script.opened == 1, "no retry before the interval")
        script.openError = nil
        watcher.ensure(["/logs"], now: 1_000)
        #expect(watcher.isActive && watcher.descriptor == 42)
        #expect(script.reported == [false, true])
    }

    @Test("ENOSPC on the watch, a failing read and a lost watch: each falls back, none throws")
    func watchFailures() {
        let script = Script()
        script.events.watchError = ENOSPC
        let watcher = watcher(script)
        watcher.ensure(["/logs"], now: 0)
        #expect(!watcher.isActive)
        script.events.watchError = nil
        watcher.ensure(["/logs"], now: 1_000)
        #expect(watcher.isActive)
        script.events.drainError = EIO
        _ = watcher.drain(now: 1_100)
        #expect(!watcher.isActive)
        script.events.drainError = nil
        watcher.ensure(["/logs"], now: 1_500)
        #expect(!watcher.isActive, "waits for the retry interval")
        watcher.ensure(["/logs"], now: 2_100)
        #expect(watcher.isActive)
        script.events.watchLost = true
        _ = watcher.drain(now: 2_200)
        #expect(!watcher.isActive)
        script.events.watchLost = false
        watcher.ensure(["/logs"], now: 2_200)
        #expect(watcher.isActive, "a lost watch (directory moved) is set up again at once")
    }
}
