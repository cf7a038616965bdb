import Glibc
import SystemSupport

/// Where a record came from, for receivers that deduplicate by a record's name (Elasticsearch's
/// `_id`): the same line of the same file has the same origin after any restart or replay, and a file
/// rewritten in place (same device and inode, other first bytes) gives its lines other origins.
package struct RecordOrigin: Equatable, Sendable {
    /// The file (device, inode and fingerprint) or the child's stream, hashed.
    package var source: UInt64
    /// The line's first byte in its file or stream.
    package var offset: Int64
}

/// Hands out the origins of one file's or stream's lines in order. A file's fingerprint covers its
/// first 256 bytes; a line that ends before them gets one over the bytes up to its end, so every line
/// is named by bytes that were there when it was read and are there again when it is replayed.
package final class OriginCounter {
    /// The offset of the next line the consumer takes.
    package var nextOffset: Int64 = 0
    private let base: UInt64
    /// Reads the first `count` bytes of the file; nil for a stream (nothing to fingerprint).
    private let readHead: ((Int) -> [UInt8]?)?
    private var fullHead: UInt64?

    package init(base: UInt64, readHead: ((Int) -> [UInt8]?)?) {
        self.base = base
        self.readHead = readHead
    }

    /// A file by its device and inode, its fingerprint read through `descriptor` when needed.
    package convenience init(device: UInt64, inode: UInt64, descriptor: @escaping () -> Int32?) {
        self.init(base: Self.mix(device, inode)) { count in
            guard let fd = descriptor(), count > 0 else { return nil }
            var bytes = [UInt8](repeating: 0, count: count)
            let read = bytes.withUnsafeMutableBytes { raw in (try? FileIO.pread(fd, into: raw.baseAddress!, count: count, offset: 0)) ?? -1 }
            return read == count ? bytes : nil
        }
    }

    /// The origin of the next line, `bytes` long with its newline, and moves past it.
    package func take(lineBytes: Int) -> RecordOrigin {
        let offset = nextOffset
        nextOffset += Int64(lineBytes)
        return RecordOrigin(source: source(endingAt: offset + Int64(lineBytes)), offset: offset)
    }

    /// Moves past a line that gave no record (an empty line, one a filter dropped).
    package func skip(lineBytes: Int) { nextOffset += Int64(lineBytes) }

    private func source(endingAt end: Int64) -> UInt64 {
        guard let readHead else { return base }
        let limit = FileIdentity.maximumPrefix
        if end >= Int64(limit), let fullHead { return fullHead }
        let count = Int(min(end, Int64(limit)))
        // Unreadable (the file went away): named by device and inode alone, still stable per offset.
        guard let head = readHead(count) else { return base }
        let named = head.withUnsafeBytes { Self.mix(base, FileIdentity.fnv1a($0)) }
        if count == limit { fullHead = named }
        return named
    }

    package static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for word in [a, b] {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash ^= (word >> UInt64(shift)) & 0xFF
                hash &*= 0x0000_0100_0000_01B3
            }
        }
        return hash
    }
}
