import Foundation
import Testing

@testable import Configuration
@testable import Exec
@testable import Filters
@testable import Records
@testable import Tailing

/// A checkpoint that is not valid is moved aside and the start proceeds as a first start; one that
/// cannot be read at all stops start-up with exit 2.
@Suite("Faults: corrupt checkpoint")
struct CorruptCheckpointTests {
    static let valid =
        #"{"version":1,"files":[{"path":"/l/app.log","device":2049,"inode":77,"prefix_length":256,"fingerprint":"cbf29ce484222325","offset":1234}]}"#

    static func withEntry(_ replace: String, by: String) -> String { valid.replacingOccurrences(of: replace, with: by) }

    /// Each kind the contract names, with a word the reason must contain.
    static let corrupt: [(name: String, bytes: [UInt8], reason: String)] = [
        ("NUL-filled after a crash", [UInt8](repeating: 0, count: 4096), "not valid JSON"),
        ("empty", [], "not valid JSON"),
        ("truncated", Array(valid.utf8.prefix(70)), "not valid JSON"),
        ("not an object", Array("[1,2]".utf8), "not a JSON object"),
        ("unknown version", Array(withEntry(#""version":1"#, by: #""version":2"#).utf8), "unknown version 2"),
        ("no version", Array(withEntry(#""version":1,"#, by: "").utf8), "no \"version\""),
        ("prefix_length past the fingerprint", Array(withEntry(#""prefix_length":256"#, by: #""prefix_length":100000"#).utf8), "prefix_length"),
        ("negative offset", Array(withEntry(#""offset":1234"#, by: #""offset":-5"#).utf8), "offset"),
        ("impossible offset", Array(withEntry(#""offset":1234"#, by: #""offset":1e30"#).utf8), "offset"),
        ("inode not a number", Array(withEntry(#""inode":77"#, by: #""inode":"77""#).utf8), "inode"),
        ("fingerprint not hex", Array(withEntry(#""cbf29ce484222325""#, by: #""zz""#).utf8), "fingerprint"),
        ("path missing", Array(withEntry(#""path":"/l/app.log","#, by: "").utf8), "path is missing"),
    ]

    @Test("the decoder names what is wrong with each kind, and reads a valid one")
    func decoder() throws {
        for (name, bytes, reason) in Self.corrupt {
            #expect(throws: CheckpointError.self, "\(name)") { try Checkpoint.decode(bytes) }
            do {
                _ = try Checkpoint.decode(bytes)
            } catch {
                guard case .corrupt(let message) = error else {
                    Issue.record("\(name): \(error)")
                    continue
                }
                #expect(message.contains(reason), "\(name): \(message)")
            }
        }
        let checkpoint = try Checkpoint.decode(Array(Self.valid.utf8))
        #expect(checkpoint.entries.first?.offset == 1234 && checkpoint.entries.first?.identity.prefixLength == 256)
        #expect(try Checkpoint.decode(checkpoint.encoded()) == checkpoint)
    }

    @Test(
        "the real daemon with each kind: moved to .corrupt, counted, logged, every line shipped from the start",
        arguments: corrupt.indices)
    func daemon(_ index: Int) throws {
        let (name, bytes, reason) = Self.corrupt[index]
        let scenario = Scenario("corrupt\(index)")
        LogWriter(path: scenario.input).write(count: 500)
        try FileManager.default.createDirectory(atPath: scenario.directory.file("state"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: scenario.checkpoint, contents: Data(bytes)))
        let port = HTTPClient.freePort()
        let daemon = try scenario.start(["--health-address", "127.0.0.1", "--health-port", "\(port)"])
        try scenario.waitForShipped(500)
        try waitUntil("the health server") { HTTPClient.get(port: port, "/metrics") != nil }
        #expect(HTTPClient.get(port: port, "/metrics")?.body.contains("log_sidecar_checkpoint_corrupt_total 1\n") == true, "\(name)")
        #expect(try daemon.stop() == 0, "\(name)")
        #expect(scenario.shipped == Array(0..<500), "\(name)")
        #expect(FileManager.default.contents(atPath: scenario.checkpoint + ".corrupt") == Data(bytes), "\(name): moved aside as it was")
        #expect(daemon.stderr.contains("corrupt") && daemon.stderr.contains(reason), "\(name): \(daemon.stderr)")
        #expect(Output.checkpointOffset(scenario.checkpoint) != nil, "\(name): a new checkpoint is written")
    }

    @Test("a checkpoint that cannot be read (a directory in its place): exit 2, naming it")
    func unreadable() throws {
        let scenario = Scenario()
        try FileManager.default.createDirectory(atPath: scenario.checkpoint, withIntermediateDirectories: true)
        let result = try DaemonProcess.run(scenario.arguments())
        #expect(result.status == 2)
        #expect(result.stderr.contains("unreadable checkpoint") && result.stderr.contains("checkpoint.json"), "stderr: \(result.stderr)")
    }

    @Test("a checkpoint the daemon's user may not read: exit 2", .enabled(if: getuid() == 0, "needs root to run as another user"))
    func permissionDenied() throws {
        let scenario = Scenario()
        try FileManager.default.createDirectory(atPath: scenario.directory.file("state"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: scenario.checkpoint, contents: Data(Self.valid.utf8), attributes: [.posixPermissions: 0o600]))
        chmod(scenario.directory.path, 0o755)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = OtherUser.prefix(uid: 61_004) + scenario.arguments()
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(stderr.contains("unreadable checkpoint") && stderr.contains("Permission denied"), "stderr: \(stderr)")
    }
}
