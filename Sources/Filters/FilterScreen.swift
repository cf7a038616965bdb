import Records

/// A chain of filters that only read top-level fields (`drop`, `keep`, `sample`, `throttle`; the
/// commonest chain: debug lines away), decided on the enricher's own scan of a plain line, without a
/// `FilterRecord`: the scan notes the last value of each key the conditions name (`note`), and the
/// conditions are tested on those values in the chain's order (`firstDropping`), each filter deciding
/// as its `apply` does (`RecordFilter.keeps`). A kept line is then written as on the path without
/// filters, which is what the chain writes for a record it keeps unchanged.
///
/// Only for a plain line (`JSONScanner.Object.isPlain`): no escaped key can name a field there, and a
/// string's text is its bytes. The enricher gives any other line, and every line of a source with a
/// parser or in the text format, to the chain itself; the differential tests (`FilterScreenTests`,
/// the fuzz target `filters`) hold the two to the same output.
package final class FilterScreen {
    /// One filter's test, read without a retain: the filter, and its condition's set or pattern, lent
    /// (`filters` holds them).
    private struct Test {
        /// The number of the key it reads, in `table`; -1 for a filter without a condition.
        let key: Int
        let set: Unmanaged<ScalarSet>?
        let regex: Unmanaged<PCRERegex>?
        /// A drop or keep, decided here: its matches kept or not. Any other filter decides by `keeps`.
        let isMatch: Bool
        let keepsMatches: Bool
        let filter: Unmanaged<RecordFilter>
    }

    private let tests: UnsafeMutableBufferPointer<Test>
    /// What the tests lend: the filters, and so their conditions.
    private let filters: [RecordFilter]
    /// The conditions' keys, each once.
    package let keys: [[UInt8]]
    // Read by `note`, which is inlined into the enricher's call for a member.
    @usableFromInline let table: KeyTable
    /// The last value of each key on the line scanned, as (start, end) in its bytes, and the line it was
    /// noted on: a value noted before the current `line` is not the line's. Counting lines spares
    /// forgetting every key before each scan.
    @usableFromInline let values: UnsafeMutablePointer<(start: Int, end: Int, line: UInt64)>
    @usableFromInline var line: UInt64 = 1
    /// The chain's `nowMs`, set with it once a batch.
    var nowMs: Int64 = 0

    /// The screen for `filters`, or nil when one of them edits records, or reads a field that is not a
    /// top-level key (a key without dots: a dotted path may name a nested field).
    init?(_ filters: [RecordFilter]) {
        var tests: [Test] = []
        var keys: [[UInt8]] = []
        for filter in filters {
            guard filter.isScreenable else { return nil }
            let match = filter as? MatchFilter
            let filter = Unmanaged.passUnretained(filter)
            guard let condition = filter.takeUnretainedValue().screenCondition else {
                tests.append(Test(key: -1, set: nil, regex: nil, isMatch: false, keepsMatches: false, filter: filter))
                continue
            }
            let text = condition.path.text
            guard !text.isEmpty, condition.path.dots.isEmpty else { return nil }
            let key = keys.firstIndex(of: text) ?? keys.count
            if key == keys.count { keys.append(text) }
            tests.append(
                Test(
                    key: key, set: condition.unretainedSet, regex: condition.unretainedRegex, isMatch: match != nil,
                    keepsMatches: match?.keepsMatches ?? false, filter: filter))
        }
        guard !tests.isEmpty else { return nil }
        self.tests = .allocate(capacity: tests.count)
        _ = self.tests.initialize(from: tests)
        (self.filters, self.keys) = (filters, keys)
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
    /// them keep it (a missing field never matches); the filters that keep state move it as their
    /// `apply` would. The next line's values are noted afresh.
    package func firstDropping(in bytes: UnsafeRawBufferPointer) -> Int? {
        defer { line &+= 1 }
        for index in tests.indices {
            let test = tests[index]
            var holds = false
            if test.key >= 0 {
                let value = values[test.key]
                holds =
                    value.line == line
                    && FieldCondition.test(
                        UnsafeRawBufferPointer(rebasing: bytes[value.start..<value.end]), plain: true, set: test.set, regex: test.regex)
            }
            let keeps =
                test.isMatch ? holds == test.keepsMatches : test.filter._withUnsafeGuaranteedRef { $0.keeps(conditionHolds: holds, nowMs: nowMs) }
            if !keeps { return index }
        }
        return nil
    }

    /// Forgets the values noted, for a line the screen did not decide.
    package func forget() { line &+= 1 }
}
