import Foundation

/// The real `log-sidecar` binary, run as a child process with its stdout in a file.
final class DaemonProcess {
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["LOG_SIDECAR_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/log-sidecar").path
    }

    let process = Process()
    /// True once `waitForExit` reaped the process itself (Foundation then still thinks it runs).
    private var reaped = false
    private var reapedStatus: Int32?
    let stdoutPath: String
    let stderrPath: String

    /// Starts the daemon; its stdout goes to `stdoutPath` (appended, so a restart adds to the same file).
    init(
        arguments: [String], stdoutPath: String, stderrPath: String? = nil, environment: [String: String] = [:],
        executable: String? = nil, prefix: [String] = []
    ) throws {
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath ?? stdoutPath + ".stderr"
        for path in [stdoutPath, self.stderrPath] where !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        process.executableURL = URL(fileURLWithPath: executable ?? Self.binary)
        process.arguments = prefix + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOG_SIDECAR_") }
        env["HOSTNAME"] = "test-host"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = FileHandle(forWritingAtPath: stdoutPath)!
        out.seekToEndOfFile()
        let err = FileHandle(forWritingAtPath: self.stderrPath)!
        err.seekToEndOfFile()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit and returns its status (bounded).
    @discardableResult
    func waitForExit(seconds: Double = 30) throws -> Int32 {
        if let reapedStatus { return reapedStatus }
        try waitUntil("log-sidecar to exit", seconds: seconds) {
            if !process.isRunning { return true }
            // Foundation learns of an exit from a socket the child inherits; when a later child (a
            // server a test restarts) inherits it too, the exit goes unseen: reap it ourselves.
            var status: Int32 = 0
            if waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier {
                reaped = true
                reapedStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                return true
            }
            return false
        }
        if let reapedStatus { return reapedStatus }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGTERM, then the exit status.
    func stop() throws -> Int32 {
        signal(SIGTERM)
        return try waitForExit()
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Peak resident set size so far, from /proc (VmHWM), in bytes.
    var peakRSS: Int { Self.peakRSS(pid: pid) }

    static func peakRSS(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
        }
        return 0
    }

    deinit {
        if process.isRunning && !reaped {
            kill(process.processIdentifier, SIGKILL)
            _ = try? waitForExit()
        }
    }

    /// Runs the binary to completion (for --check-config and bad configurations).
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOG_SIDECAR_") }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
