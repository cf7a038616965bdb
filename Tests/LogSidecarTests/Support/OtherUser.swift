import Foundation

/// Runs the daemon (or a helper) as an unprivileged user, as it runs in a pod: root ignores the
/// permissions and per-user limits that the fault tests are about.
enum OtherUser {
    static func prefix(uid: Int) -> [String] { ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", DaemonProcess.binary] }

    /// The daemon as `uid`, in `scenario`, with its directories opened up to that user.
    static func start(_ scenario: Scenario, uid: Int, _ extra: [String] = []) throws -> DaemonProcess {
        for directory in [scenario.directory.path, scenario.directory.file("logs"), scenario.directory.file("state")] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chown(directory, uid_t(uid), gid_t(uid))
        }
        let daemon = try DaemonProcess(
            arguments: scenario.arguments(extra), stdoutPath: scenario.output, executable: "/usr/bin/setpriv",
            prefix: prefix(uid: uid))
        scenario.daemon = daemon
        return daemon
    }

    /// A helper process as `uid` running `script` in Python; its first line of output is returned once it
    /// has printed it, the process stays until `stop`.
    final class Helper {
        let process = Process()
        let output = Pipe()

        init(uid: Int, python script: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/usr/bin/env", "python3", "-c", script]
            process.standardOutput = output
            try process.run()
        }

        func firstLine() -> String {
            var bytes = Data()
            while true {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data([0x0A]) { break }
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        deinit { stop() }
    }
}
