import Foundation

/// Reads what the daemon shipped and checks it against what was written.
enum Output {
    static func lines(_ path: String) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// The `seq` numbers of the shipped records, in output order (records without one are skipped).
    static func sequenceNumbers(_ path: String) -> [Int] {
        lines(path).compactMap { line in
            guard let range = line.range(of: "\"seq\":") else { return nil }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            return Int(digits)
        }
    }

    static func object(_ line: Substring) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        guard let object = value as? [String: Any] else { throw OutputError.notAnObject(String(line)) }
        return object
    }

    enum OutputError: Error { case notAnObject(String) }

    /// Counts of what is missing and what came twice, for the "exactly once" checks.
    static func audit(_ sequence: [Int], expected: Int) -> (missing: [Int], duplicates: Int) {
        var seen = [Int](repeating: 0, count: expected)
        var outOfRange = 0
        for number in sequence {
            if number >= 0 && number < expected { seen[number] += 1 } else { outOfRange += 1 }
        }
        let missing = seen.indices.filter { seen[$0] == 0 }
        let duplicates = seen.reduce(0) { $0 + max(0, $1 - 1) } + outOfRange
        return (missing, duplicates)
    }

    /// The acknowledged offsets in the checkpoint at `path`, summed over its files; nil when there is none yet.
    static func checkpointOffset(_ path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let files = object["files"] as? [[String: Any]]
        else { return nil }
        return files.compactMap { $0["offset"] as? Int }.reduce(0, +)
    }
}
