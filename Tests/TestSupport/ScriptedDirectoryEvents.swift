import SystemSupport
import Tailing

/// A directory-event source a test scripts: which calls fail, and what each drain reports. It
/// remembers the directories watched, so a test can turn a file's change into the event inotify gives.
package final class ScriptedDirectoryEvents: DirectoryEvents {
    package var watchError: Int32?
    package var drainError: Int32?
    /// Every watch is reported lost at the next drain (the directory was removed).
    package var watchLost = false
    /// What the next drains report, in order; an empty drain once they are used.
    package var queued: [Inotify.Drained] = []
    package let descriptor: Int32
    package private(set) var watched: [Int32: String] = [:]
    package private(set) var drains = 0
    private var nextWatch: Int32 = 1

    /// `descriptor`: what the file server polls; a test that runs no loop may give any number.
    package init(descriptor: Int32 = 42) { self.descriptor = descriptor }

    package func watch(_ path: String, mask: UInt32) throws(SystemError) -> Int32? {
        if let watchError { throw SystemError(call: "inotify_add_watch", subject: path, errno: watchError) }
        if let existing = watched.first(where: { $0.value == path })?.key { return existing }
        defer { nextWatch += 1 }
        watched[nextWatch] = path
        return nextWatch
    }

    package func removeWatch(_ wd: Int32) { watched[wd] = nil }

    package func drain() throws(SystemError) -> Inotify.Drained {
        drains += 1
        if let drainError { throw SystemError(call: "read", subject: "inotify", errno: drainError) }
        var drained = queued.isEmpty ? Inotify.Drained() : queued.removeFirst()
        if watchLost { drained.lostWatches = Array(watched.keys) }
        return drained
    }

    /// Queues the event inotify gives when `name` in the watched `directory` is written.
    package func written(_ name: String, in directory: String) {
        guard let watch = watched.first(where: { $0.value == directory })?.key else { return }
        var drained = Inotify.Drained()
        drained.events = 1
        drained.written = [(watch, name)]
        queued.append(drained)
    }

    /// Queues the event inotify gives when an entry of the watched `directory` is created or renamed.
    package func changed(_ directory: String) {
        guard let watch = watched.first(where: { $0.value == directory })?.key else { return }
        var drained = Inotify.Drained()
        drained.events = 1
        drained.changedDirectories = [watch]
        queued.append(drained)
    }
}
