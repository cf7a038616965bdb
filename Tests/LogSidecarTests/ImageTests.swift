import Foundation
import Testing

/// The container image's runtime stage, built from Debian's packages (scripts/image-rootfs.sh) and run
/// as Kubernetes runs it: read-only root, UID/GID 65532, the volumes as the only writable mounts.
@Suite("Image runtime stage", .enabled(if: getuid() == 0, "needs root for mmdebstrap, mounts and chroot"))
struct ImageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var releaseBinary: String { repository.appendingPathComponent(".build/release/log-sidecar").path }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(
        "the static release binary in a bookworm minbase root with the declared runtime packages: every library from a declared package, lines shipped, probes answered, checkpoint written, clean stop; then exec mode as PID 1",
        .enabled(if: FileManager.default.isExecutableFile(atPath: releaseBinary), "scripts/test.sh builds the release binary first"))
    func runtimeStage() throws {
        let rootfs = try Self.run(Self.repository.appendingPathComponent("scripts/image-rootfs.sh").path, [Self.releaseBinary])
        try #require(rootfs.status == 0, "image-rootfs.sh failed")
        let root = rootfs.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let work = TestDirectory()
        let port = HTTPClient.freePort()
        let harness = try Self.run(
            "/usr/bin/unshare",
            [
                "--mount", "--propagation", "private",
                Self.repository.appendingPathComponent("Tests/LogSidecarTests/Fixtures/image-harness.sh").path,
                root, work.path, "\(port)", Self.repository.appendingPathComponent("Dockerfile").path,
                Self.repository.appendingPathComponent("deploy/kubernetes/configmap.yaml").path,
            ])
        #expect(harness.status == 0)

        // Every library the binary loads is found, and comes from a package the image declares.
        let ldd = work.read("ldd.txt")
        #expect(!ldd.contains("not found") && ldd.contains("libc.so.6"), "ldd: \(ldd)")
        let declared = Set(
            try String(contentsOfFile: Self.repository.appendingPathComponent("deploy/image/runtime-packages.txt").path, encoding: .utf8)
                .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) })
        let owners = work.read("owners.txt").split(separator: "\n").map(String.init)
        #expect(!owners.isEmpty)
        for owner in owners {
            let package = String(owner.prefix { $0 != ":" })
            #expect(declared.contains(package), "\(owner): its package is not in deploy/image/runtime-packages.txt")
        }

        #expect(Output.sequenceNumbers(work.file("out.jsonl")) == Array(0..<1_000), "stderr: \(work.read("stderr"))")
        let record = try Output.object(try #require(Output.lines(work.file("out.jsonl")).first))
        #expect(record["cluster"] as? String == "prod" && record["host"] as? String == "image-test")
        #expect(work.read("healthz") == "200" && work.read("readyz") == "200")
        #expect(Output.checkpointOffset(work.file("checkpoint.json")) ?? 0 > 0)
        #expect(work.read("status").trimmingCharacters(in: .whitespacesAndNewlines) == "0", "stderr: \(work.read("stderr"))")

        // Exec mode, as deploy/exec/Dockerfile runs it: PID 1, non-root, read-only root, the child's status.
        #expect(work.read("exec-status").trimmingCharacters(in: .whitespacesAndNewlines) == "7", "stderr: \(work.read("exec-stderr"))")
        let records = try Output.lines(work.file("exec-out.jsonl")).map(Output.object)
        let stdout = try #require(records.first { $0["stream"] as? String == "stdout" })
        #expect(
            stdout["from"] as? String == "exec" && stdout["parent"] as? Int == 1 && stdout["host"] as? String == "image-test",
            "the shell's parent, log-sidecar, is PID 1: \(stdout)")
        #expect(records.contains { $0["stream"] as? String == "stderr" && $0["message"] as? String == "plain text" })
    }
}
