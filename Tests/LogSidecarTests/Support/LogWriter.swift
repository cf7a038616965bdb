import Foundation

/// An application writing JSON lines at a steady rate, and doing to its file what logrotate does.
final class LogWriter: @unchecked Sendable {  // each writer is driven by one thread at a time
    enum Rotation { case none, renameAndCreate, copyTruncate, deleteAndRecreate }

    let path: String
    /// Bytes added to each line's `pad`: longer lines, so that a file holds more than one turn of reads.
    let padding: String
    private var fd: Int32 = -1
    private(set) var written = 0

    init(path: String, padding: Int = 0) {
        self.path = path
        self.padding = String(repeating: "p", count: padding)
    }

    deinit { if fd >= 0 { close(fd) } }

    static func line(_ seq: Int, padding: String = "") -> String {
        "{\"seq\":\(seq),\"level\":\"info\",\"msg\":\"request served\",\"pad\":\"abcdefghijklmnopqrstuvwxyz0123456789\(padding)\"}\n"
    }

    func openIfNeeded() {
        if fd < 0 { fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644) }
        precondition(fd >= 0, "cannot open \(path)")
    }

    /// Writes lines `written..<written+count` in one write.
    func write(count: Int) {
        openIfNeeded()
        var text = ""
        for seq in written..<(written + count) { text += Self.line(seq, padding: padding) }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            precondition(n > 0)
            done += n
        }
        written += count
    }

    func writeRaw(_ text: String) {
        openIfNeeded()
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
    }

    /// Writes `rate` lines a second for `seconds`, rotating every `rotateEvery` seconds.
    func run(rate: Int, seconds: Double, rotation: Rotation, rotateEvery: Double = 1.0) {
        let start = Date()
        var nextRotation = rotateEvery
        let tick = 0.01
        var due = 0
        while true {
            let elapsed = Date().timeIntervalSince(start)
            if elapsed >= seconds { break }
            let target = Int(elapsed * Double(rate))
            if target > due {
                write(count: target - due)
                due = target
            }
            if rotation != .none && elapsed >= nextRotation {
                rotate(rotation)
                nextRotation += rotateEvery
            }
            Thread.sleep(forTimeInterval: tick)
        }
        let total = Int(seconds * Double(rate))
        if total > due { write(count: total - due) }
    }

    private var rotations = 0

    /// One rotation of the given kind, as logrotate (or the application) would do it.
    func rotate(_ rotation: Rotation) {
        rotations += 1
        let manager = FileManager.default
        let rotated = "\(path).\(rotations)"
        switch rotation {
        case .none:
            break
        case .renameAndCreate:
            precondition(rename(path, rotated) == 0)
            close(fd)
            fd = -1
            openIfNeeded()
        case .copyTruncate:
            // Done between two writes of this writer, so no line falls between copy and truncate.
            try! manager.copyItem(atPath: path, toPath: rotated)
            precondition(ftruncate(fd, 0) == 0)
        case .deleteAndRecreate:
            close(fd)
            fd = -1
            precondition(unlink(path) == 0)
            openIfNeeded()
        }
    }
}
