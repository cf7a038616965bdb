import Foundation

/// A daemon following `app.log` in a fresh directory, shipping to stdout captured in `out.jsonl`.
final class Scenario {
    let directory: TestDirectory
    let input: String
    let output: String
    let checkpoint: String
    var daemon: DaemonProcess?
    /// How the input is named: `--input-path <input>` unless a test follows several files.
    var inputArguments: [String]

    init(_ name: String = #function) {
        directory = TestDirectory(name)
        input = directory.file("logs/app.log")
        output = directory.file("out.jsonl")
        checkpoint = directory.file("state/checkpoint.json")
        inputArguments = ["--input-path", input]
        try? FileManager.default.createDirectory(atPath: directory.file("logs"), withIntermediateDirectories: true)
    }

    /// Flags that make the output equal the input: no enrichment fields, no health port.
    func arguments(_ extra: [String] = []) -> [String] {
        [
            "--input-checkpoint-path", checkpoint, "--health-port", "0",
            "--enrich-host-field", "", "--enrich-timestamp-field", "", "--input-poll-interval-ms", "200",
            "--input-rotate-wait-ms", "300", "--input-checkpoint-interval-ms", "200",
        ] + inputArguments + extra
    }

    @discardableResult
    func start(_ extra: [String] = [], environment: [String: String] = [:]) throws -> DaemonProcess {
        let daemon = try DaemonProcess(arguments: arguments(extra), stdoutPath: output, environment: environment)
        self.daemon = daemon
        return daemon
    }

    var shipped: [Int] { Output.sequenceNumbers(output) }

    func waitForShipped(_ count: Int, seconds: Double = 60) throws {
        try waitUntil("\(count) records in the output (have \(Output.lines(output).count))", seconds: seconds) {
            Output.lines(output).count >= count
        }
    }
}
