import Foundation

/// A small tmpfs in the test's directory (root only), so a sink can fill its disk; unmounted at the end.
final class SmallVolume {
    let path: String

    struct MountFailed: Error {}

    init(in directory: TestDirectory, megabytes: Int = 1) throws {
        path = directory.file("small")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard SinkFailureTests.shell("mount -t tmpfs -o size=\(megabytes)m tmpfs '\(path)'") == 0 else { throw MountFailed() }
    }

    deinit { _ = SinkFailureTests.shell("umount -l '\(path)'") }
}

/// A FIFO with a reader that does not read: a sink writing to it blocks once the pipe is full.
final class StalledFifo {
    let path: String
    let reader: Int32

    init(in directory: TestDirectory) {
        path = directory.file("stalled.fifo")
        mkfifo(path, 0o644)
        reader = open(path, O_RDONLY | O_NONBLOCK)
    }

    /// Bytes waiting in the pipe.
    var pendingBytes: Int {
        var pending: Int32 = 0
        return ioctl(reader, UInt(FIONREAD), &pending) == 0 ? Int(pending) : 0
    }

    deinit { close(reader) }
}
