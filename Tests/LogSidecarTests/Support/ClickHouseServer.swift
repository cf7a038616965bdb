import Foundation

/// Debian's clickhouse-server, run by `Fixtures/clickhouse-server.sh` on a loopback port with its
/// config and data in a test directory; queried over its HTTP interface.
final class ClickHouseServer {
    static var harness: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/clickhouse-server.sh").path
    }

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/clickhouse-server") }

    let directory: String
    let port: Int
    private var process: Process?

    init(directory: String) throws {
        self.directory = directory
        // The TCP port is the HTTP port + 1: two free ports in a row.
        var port = 0
        for _ in 0..<50 {
            let candidate = HTTPClient.freePort()
            if candidate < 65000, let next = HTTPClient.listen(port: candidate + 1) {
                close(next.fd)
                port = candidate
                break
            }
        }
        self.port = port
        try start()
    }

    deinit { kill() }

    var url: String { "http://127.0.0.1:\(port)" }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.harness, directory, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try waitUntil("clickhouse-server to answer /ping", seconds: 60, every: 0.1) {
            HTTPClient.get(port: port, "/ping")?.body == "Ok.\n"
        }
    }

    /// `kill -9`: no chance to flush or answer what is in flight.
    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        // Reaped here: Foundation may not see this exit (see DaemonProcess.waitForExit).
        var status: Int32 = 0
        _ = waitpid(process.processIdentifier, &status, 0)
        self.process = nil
    }

    /// Runs `sql` over ClickHouse's HTTP interface (a raw loopback request: Foundation's Process
    /// misses the exit of short children here, so no curl) and returns the body; throws with
    /// ClickHouse's message when it fails.
    @discardableResult
    func query(_ sql: String) throws -> String {
        let body = Array(sql.utf8)
        guard let fd = HTTPClient.connect(port: port) else { throw QueryFailed(message: "cannot connect for \(sql)") }
        defer { close(fd) }
        HTTPClient.send(fd, Array("POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += chunk[0..<n]
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = data.firstRange(of: separator) else { throw QueryFailed(message: "no answer to \(sql)") }
        let head = String(decoding: data[..<headerEnd.lowerBound], as: UTF8.self)
        var payload = Array(data[headerEnd.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { payload = Self.dechunk(payload) }
        let text = String(decoding: payload, as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200") || head.hasPrefix("HTTP/1.0 200") else { throw QueryFailed(message: "\(sql): \(head) \(text)") }
        return text
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var result = [UInt8]()
        var index = 0
        while index < bytes.count {
            var lineEnd = index
            while lineEnd + 1 < bytes.count && !(bytes[lineEnd] == 13 && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
            guard let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            let end = min(start + size, bytes.count)
            result += bytes[start..<end]
            index = end + 2
        }
        return result
    }

    func count(_ table: String) throws -> Int {
        Int(try query("SELECT count() FROM \(table)").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    struct QueryFailed: Error, CustomStringConvertible {
        let message: String
        var description: String { "ClickHouse query failed: \(message)" }
    }
}
