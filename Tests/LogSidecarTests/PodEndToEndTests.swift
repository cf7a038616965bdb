import Foundation
import Testing

/// A pod on one machine, built from our own manifests: a writer as the app's user and log-sidecar as its
/// own, sharing a tmpfs "emptyDir", each with the environment the manifest gives it.
@Suite("Pod-shaped end to end", .enabled(if: getuid() == 0, "needs root for mount namespaces and users"))
struct PodEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let kubernetes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/kubernetes")

    @Test(
        "the writer logs and rotates, exits, log-sidecar gets SIGTERM: every line once, enriched with the pod fields",
        arguments: ["native-sidecar.yaml", "sidecar-deployment.yaml"])
    func pod(manifest: String) throws {
        let directory = TestDirectory("pod\(manifest)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--propagation", "private", Self.fixtures.appendingPathComponent("pod-harness.sh").path,
            directory.path, DaemonProcess.binary, Self.kubernetes.appendingPathComponent(manifest).path,
            Self.kubernetes.appendingPathComponent("configmap.yaml").path, "2000", "4",
            Self.kubernetes.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Dockerfile").path,
        ]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        try waitUntil("the pod to finish", seconds: 60) { !process.isRunning }
        process.waitUntilExit()
        let harnessErrors = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(process.terminationStatus == 0, "harness: \(harnessErrors)")

        // The image's environment must not override what the ConfigMap says.
        let configMap = try JSONSerialization.jsonObject(with: Data(directory.read("config.json").utf8))
        let effective = try JSONSerialization.jsonObject(with: Data(directory.read("effective.json").utf8))
        #expect(
            Self.mismatches(configMap, in: effective).isEmpty, "the effective configuration differs: \(Self.mismatches(configMap, in: effective))")

        let result = directory.read("result").split(separator: " ").map(String.init)
        #expect(result.first == (manifest == "native-sidecar.yaml" ? "native" : "classic"))
        #expect(result.last?.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "stderr: \(directory.read("stderr"))")
        let written = try #require(Int(directory.read("written").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(written == 8000)
        let lines = Output.lines(directory.file("out.jsonl"))
        #expect(Output.sequenceNumbers(directory.file("out.jsonl")) == Array(0..<written))
        for line in lines where line.contains("\"seq\":0,") || line.contains("\"seq\":7999,") || line.contains("\"seq\":4000,") {
            let record = try Output.object(line)
            #expect(record["pod"] as? String == "shop-7d9f8-x2x4q")
            #expect(record["namespace"] as? String == "shop")
            #expect(record["node"] as? String == "node-1")
            #expect(record["cluster"] as? String == "prod")
            #expect(record["host"] as? String == "shop-7d9f8-x2x4q")
        }
        #expect(directory.read("stderr").contains("rotated"))
        // The application's text log, shipped by the same sidecar as text.
        let text = try lines.map(Output.object).filter { ($0["file"] as? String)?.hasSuffix("/error.log") == true }
        #expect(text.compactMap { $0["message"] as? String } == (0..<10).map { "warning: slow request \($0) took 2.\($0) s" })
        #expect(text.allSatisfy { $0["parse_error"] == nil && $0["pod"] as? String == "shop-7d9f8-x2x4q" })
    }

    /// Where `expected` (the ConfigMap's config) is not what `actual` (the effective one) holds: every key
    /// the ConfigMap sets must have its value; keys it leaves out may hold anything (their defaults).
    static func mismatches(_ expected: Any, in actual: Any?, at path: String = "") -> [String] {
        switch expected {
        case let object as [String: Any]:
            guard let actualObject = actual as? [String: Any] else { return ["\(path): \(String(describing: actual))"] }
            return object.keys.sorted().flatMap { mismatches(object[$0]!, in: actualObject[$0], at: path + "." + $0) }
        case let array as [Any]:
            guard let actualArray = actual as? [Any], actualArray.count == array.count else { return ["\(path): \(String(describing: actual))"] }
            return array.indices.flatMap { mismatches(array[$0], in: actualArray[$0], at: "\(path)[\($0)]") }
        default:
            guard let actual, (expected as? NSObject)?.isEqual(actual) == true else {
                return ["\(path): expected \(expected), got \(String(describing: actual))"]
            }
            return []
        }
    }
}
