import Glibc
import Records
import SystemSupport

/// Records a receiver rejected for their content, one JSON line each with the response's status and
/// first KiB and the record, appended and fsynced before the batch counts as delivered.
final class DeadLetterFile {
    static let responseLimit = 1024
    let path: String
    private var descriptor: Int32 = -1
    private var timestamps = TimestampCache()

    init(path: String) { self.path = path }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    func append(sink: String, status: Int, response: [UInt8], record: ArraySlice<UInt8>) throws(SystemError) {
        if descriptor < 0 {
            try FileIO.makeDirectories(Path.directory(of: path))
            let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard opened >= 0 else { throw SystemError(call: "open \(path)", errno: errno) }
            descriptor = opened
        }
        var line: [UInt8] = []
        line.reserveCapacity(record.count + 1300)
        line.append(contentsOf: "{\"time\":".utf8)
        line.append(contentsOf: timestamps.now())
        line.append(contentsOf: ",\"sink\":".utf8)
        JSONEscaper.appendQuoted(ArraySlice(sink.utf8), to: &line)
        line.append(contentsOf: ",\"status\":\(status),\"response\":".utf8)
        response.withUnsafeBytes { raw in
            let cut = UTF8Validation.boundary(raw, limit: Self.responseLimit)
            JSONEscaper.appendQuoted(UnsafeRawBufferPointer(rebasing: raw[..<cut]), to: &line)
        }
        line.append(contentsOf: ",\"record\":".utf8)
        line.append(contentsOf: record)
        line.append(contentsOf: "}\n".utf8)
        let descriptor = self.descriptor
        var failure: SystemError?
        line.withUnsafeBytes { raw in
            do throws(SystemError) { try FileIO.writeAll(descriptor, raw) } catch { failure = error }
        }
        if let failure { throw failure }
        guard fsync(descriptor) == 0 else { throw SystemError(call: "fsync \(path)", errno: errno) }
    }
}
