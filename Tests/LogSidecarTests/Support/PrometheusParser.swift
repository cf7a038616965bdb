import Foundation

/// Checks an exposition with the prometheus-client package's own parser (installed by scripts/setup.sh).
enum PrometheusParser {
    struct ParseFailure: Error, CustomStringConvertible {
        let description: String
    }

    static func check(_ exposition: String, expecting names: [String]) throws {
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            names = set()
            for family in text_string_to_metric_families(sys.stdin.read()):
                for sample in family.samples:
                    names.add(sample.name)
            print("\\n".join(sorted(names)))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let parsed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ParseFailure(description: "the parser rejected the exposition: \(problems)") }
        let found = Set(parsed.split(separator: "\n").map(String.init))
        let missing = names.filter { !found.contains($0) }
        guard missing.isEmpty else { throw ParseFailure(description: "missing metrics: \(missing)") }
    }
}
