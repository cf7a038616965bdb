import Logging
import SystemSupport

/// What a source of directory events offers; `Inotify` is the real one, tests script their own.
package protocol DirectoryEvents: AnyObject {
    var descriptor: Int32 { get }
    func watch(_ path: String, mask: UInt32) throws(SystemError) -> Int32?
    func removeWatch(_ wd: Int32)
    func drain() throws(SystemError) -> Inotify.Drained
}

extension Inotify: DirectoryEvents {}

/// What the events said since the last look, in paths.
struct DirectoryChanges {
    /// Every directory must be listed again (the queue overflowed, or a watch was lost).
    var everything = false
    /// Directories in which an entry was created, moved or deleted.
    var directories: Set<String> = []
    /// Files that were written to.
    var written: Set<String> = []

    var isEmpty: Bool { !everything && directories.isEmpty && written.isEmpty }
}

/// inotify as a hint, never a requirement: one watch per directory that discovery names, never one per
/// file. When the instance cannot be created (EMFILE: the per-UID limit is shared by every container of
/// that UID on a node), a watch cannot be added (ENOSPC: `max_user_watches`) or a read fails, the files
/// are followed by the stat poll alone, which is said once, and inotify is tried again every
/// `retryIntervalMs`.
final class ChangeWatcher {
    let logger: Logger
    let retryIntervalMs: Int64
    private let open: () throws(SystemError) -> any DirectoryEvents
    private let reportActive: (Bool) -> Void
    private var events: (any DirectoryEvents)?
    private var watches: [String: Int32] = [:]
    private var directories: [Int32: String] = [:]
    private var wanted: Set<String> = []
    private var retryAtMs: Int64 = 0
    /// Whether the last attempt failed: the warning is logged once per fallback, not per attempt.
    private var degraded = false

    init(
        logger: Logger, retryIntervalMs: Int64 = 5_000,
        open: @escaping () throws(SystemError) -> any DirectoryEvents = { () throws(SystemError) in try Inotify() },
        reportActive: @escaping (Bool) -> Void
    ) {
        self.logger = logger
        self.retryIntervalMs = retryIntervalMs
        self.open = open
        self.reportActive = reportActive
    }

    /// The descriptor to poll for events; nil while only the stat poll is running.
    var descriptor: Int32? { isActive ? events?.descriptor : nil }

    /// True while every wanted directory that exists is watched.
    var isActive: Bool { events != nil && !degraded && !watches.isEmpty }

    /// Every wanted directory is watched: `ensure` has nothing to add until the wanted set changes.
    var watchesAll: Bool { isActive && watches.count == wanted.count }

    /// Watches exactly `wanted` (adding what is missing, dropping what is no longer wanted) once the
    /// retry time has come; a directory that does not exist is simply not watched.
    func ensure(_ wanted: Set<String>, now: Int64) {
        let unchanged = wanted == self.wanted && !degraded && events != nil && watches.count == wanted.count
        self.wanted = wanted
        guard !unchanged, now >= retryAtMs else { return }
        do throws(SystemError) {
            let events: any DirectoryEvents
            if let existing = self.events { events = existing } else { events = try open() }
            self.events = events
            for (directory, watch) in watches where !wanted.contains(directory) {
                events.removeWatch(watch)
                watches[directory] = nil
                directories[watch] = nil
            }
            for directory in wanted.sorted() where watches[directory] == nil {
                if let watch = try events.watch(directory, mask: Inotify.directoryMask) {
                    watches[directory] = watch
                    directories[watch] = directory
                }
            }
            if degraded && !watches.isEmpty {
                degraded = false
                logger.notice("inotify works again; events are back", metadata: ["directories": "\(watches.count)"])
            }
        } catch {
            fallBack(error, now: now)
        }
        reportActive(isActive)
    }

    /// Reads what inotify queued and says, in paths, what to look at again.
    func drain(now: Int64) -> DirectoryChanges {
        var changes = DirectoryChanges()
        guard let events, isActive else { return changes }
        do throws(SystemError) {
            let drained = try events.drain()
            if drained.overflowed {
                logger.warning("inotify queue overflowed; re-checking every file")
                changes.everything = true
            }
            for watch in drained.lostWatches {
                guard let directory = directories[watch] else { continue }
                events.removeWatch(watch)
                directories[watch] = nil
                watches[directory] = nil
                changes.everything = true
            }
            for watch in drained.changedDirectories { if let directory = directories[watch] { changes.directories.insert(directory) } }
            for (watch, name) in drained.written {
                if let directory = directories[watch] { changes.written.insert(Path.join(directory, name)) }
            }
            if watches.isEmpty { reportActive(false) }
        } catch {
            fallBack(error, now: now)
            reportActive(false)
            changes.everything = true
        }
        return changes
    }

    private func fallBack(_ error: SystemError, now: Int64) {
        for watch in watches.values { events?.removeWatch(watch) }
        watches.removeAll()
        directories.removeAll()
        // A failed instance is dropped: the next attempt starts afresh (and frees its descriptor now).
        events = nil
        retryAtMs = now + retryIntervalMs
        if !degraded {
            degraded = true
            logger.warning(
                "inotify unavailable; following by stat poll alone, retrying inotify every \(retryIntervalMs) ms",
                metadata: ["error": "\(error)"])
        }
    }
}
