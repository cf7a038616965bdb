import CSystemd
import Glibc

/// Sends each record to systemd-journald through `sd_journal_sendv`, one entry per record, with the
/// fields the design maps: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and every other key upper-cased.
public final class JournaldSink: Sink {
    public let name: String
    private let mapper: JournaldFieldMapper

    public init(name: String, identifier: String, messageKey: String, levelKey: String) {
        self.name = name
        mapper = JournaldFieldMapper(identifier: identifier, messageKey: messageKey, levelKey: levelKey)
    }

    /// sd_journal_sendv reports success when this socket is missing (libsystemd drops the entry on
    /// purpose), so its presence is checked once per batch: no journald must be an error we count.
    static let socketPath = "/run/systemd/journal/socket"

    public func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        guard (try? FileStatus.at(Self.socketPath)) != nil else {
            throw SinkFailure(accepted: offset, reason: "no journald socket at \(Self.socketPath); is systemd-journald running?")
        }
        let first = batch.recordsEnding(atOrBefore: offset)
        var failure: SinkFailure?
        batch.forEachRecord(from: first) { index, record in
            guard failure == nil else { return }
            let result = send(mapper.entry(of: record))
            if result < 0 {
                let start = index == 0 ? 0 : batch.recordEnds[index - 1]
                failure = SinkFailure(accepted: start, reason: "sd_journal_sendv: \(String(cString: strerror(-result)))")
            }
        }
        if let failure { throw failure }
    }

    private func send(_ entry: JournaldEntry) -> Int32 {
        entry.bytes.withUnsafeBytes { raw in
            let vectors = entry.fields.map {
                iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + $0.lowerBound), iov_len: $0.count)
            }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
