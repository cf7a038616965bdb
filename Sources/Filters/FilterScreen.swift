import Records

/// A chain of `drop` and `keep` filters on top-level fields (the commonest chain: debug lines away),
/// decided on the enricher's own scan of a plain line, without a `FilterRecord`: the scan notes the
/// last value of each key the conditions name (`note`), and the conditions are tested on those
/// values in the chain's order (`firstDropping`). A kept line is then written as on the path without
/// filters, which is what the chain writes for a record it keeps unchanged.
///
/// Only for a plain line (`JSONScanner.Object.isPlain`): no escaped key can name a field there, and a
/// string's text is its bytes. The enricher gives any other line, and every line of a source with a
/// parser or in the text format, to the chain itself; the differential tests (`FilterScreenTests`,
/// the fuzz target `filters`) hold the two to the same output.
package final class FilterScreen {
    /// One filter's test, read without a retain: its set or pattern lent by the condition, which
    /// `conditions` holds.
    private struct Test {
        /// The number of the key it reads, in `table`.
        let key: Int
        let set: Unmanaged<ScalarSet>?
        let regex: Unmanaged<PCRERegex>?
        let keepsMatches: Bool
    }

    private let tests: UnsafeMutableBufferPointer<Test>
    private let conditions: [FieldCondition]
    /// The conditions' keys, each once.
    package let keys: [[UInt8]]
    // Read by `note`, which is inlined into the enricher's call for a member.
    @usableFromInline let table: KeyTable
    /// The last value of each key on the line scanned, as (start, end) in its bytes, and the line it was
    /// noted on: a value noted before the current `line` is not the line's. Counting lines spares
    /// forgetting every key before each scan.
    @usableFromInline let values: UnsafeMutablePointer<(start: Int, end: Int, line: UInt64)>
    @usableFromInline var line: UInt64 = 1

    /// The screen for `filters`, or nil when one of them is not a drop or keep on a top-level field
    /// (a key without dots: a dotted path may name a nested field).
    init?(_ filters: [RecordFilter]) {
        var tests: [Test] = []
        var conditions: [FieldCondition] = []
        var keys: [[UInt8]] = []
        for filter in filters {
            guard let match = filter as? MatchFilter, !match.condition.path.text.isEmpty, match.condition.path.dots.isEmpty else { return nil }
            let text = match.condition.path.text
            let key = keys.firstIndex(of: text) ?? keys.count
            if key == keys.count { keys.append(text) }
            conditions.append(match.condition)
            tests.append(
                Test(key: key, set: match.condition.unretainedSet, regex: match.condition.unretainedRegex, keepsMatches: match.keepsMatches))
        }
        guard !tests.isEmpty else { return nil }
        self.tests = .allocate(capacity: tests.count)
        _ = self.tests.initialize(from: tests)
        (self.conditions, self.keys) = (conditions, keys)
        table = KeyTable(keys)
        values = .allocate(capacity: keys.count)
        values.initialize(repeating: (-1, -1, 0), count: keys.count)
    }

    deinit {
        tests.deallocate()
        values.deallocate()
    }

    /// Notes the value of a member whose key is `key`, if it is one of the conditions' (a later member
    /// with the same key replaces it: the last of duplicates counts).
    @inlinable @inline(__always)
    package func note(_ key: UnsafeRawBufferPointer, value: Range<Int>) {
        let line = line
        table.forEachMatch(key) { values[$0] = (value.lowerBound, value.upperBound, line) }
    }

    /// The index of the first filter that drops the line whose values were noted, or nil when all of
    /// them keep it (a missing field never matches); the next line's values are noted afresh.
    package func firstDropping(in bytes: UnsafeRawBufferPointer) -> Int? {
        defer { line &+= 1 }
        for index in tests.indices {
            let test = tests[index]
            let value = values[test.key]
            let holds =
                value.line == line
                && FieldCondition.test(
                    UnsafeRawBufferPointer(rebasing: bytes[value.start..<value.end]), plain: true, set: test.set, regex: test.regex)
            if holds != test.keepsMatches { return index }
        }
        return nil
    }

    /// Forgets the values noted, for a line the screen did not decide.
    package func forget() { line &+= 1 }
}
