import Configuration
import Records

/// One entry of the filter chain: a new filter type is one file with a subclass like these and the
/// `FilterMaking` extension of its configuration type (`Configuration/Filters/FilterConfig.swift` says
/// the rest). Each keeps its own state (counts, windows) and runs on the reading loop's thread.
/// A class, not a protocol: the chain calls each filter through an unretained reference to it
/// (`FilterChain.apply`), which an existential of a protocol cannot be.
class RecordFilter {
    /// False drops the record. An edit writes the next version into `spare` and swaps the two, or
    /// leaves changes to top-level members pending (`FilterRecord+Pending.swift`). Each filter
    /// overrides it; this one keeps every record as it is.
    func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool { true }

    /// The fields it looks up, for the chain's key index (`FilterKeys`); one left out is found by a
    /// search of the record's members instead.
    var fieldPaths: [FieldPath] { [] }

    /// What the filter does as the screen does it on the enricher's scan of a plain line
    /// (`FilterScreen`); nil when the screen cannot, and then the chain takes every line.
    var screenRole: ScreenRole? { nil }

    /// For `.decides`: whether the record goes on, given whether the condition holds for it (false
    /// without one), with the filter's state moved as `apply` moves it: `apply` decides through it too.
    func keeps(conditionHolds: Bool, nowMs: Int64) -> Bool { true }

    /// For `.redacts`: what a named field's value on a plain line becomes, appended to `out`, as `apply`
    /// makes it; false (nothing appended) when it stays.
    func appendScreenedValue(_ value: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool { false }
}

/// A filter's work as the screen (`FilterScreen`) does it.
enum ScreenRole {
    /// Reads at most one field, the condition's (none when nil), and decides with `keeps`.
    case decides(FieldCondition?)
    /// Removes these fields, every copy of a duplicated key.
    case removes([FieldPath])
    /// Replaces the values of these fields with what `appendScreenedValue` makes of them.
    case redacts([FieldPath])
}

/// A filter type's configuration that builds the filter (in the filter's own file, so the
/// configuration types build without the filters).
protocol FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter
}

/// `drop` (the records that match go) and `keep` (the others go).
final class MatchFilter: RecordFilter {
    let condition: FieldCondition
    let keepsMatches: Bool

    init(_ condition: FieldCondition, keepsMatches: Bool) {
        self.condition = condition
        self.keepsMatches = keepsMatches
    }

    override var fieldPaths: [FieldPath] { [condition.path] }
    override var screenRole: ScreenRole? { .decides(condition) }

    override func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        keeps(conditionHolds: condition.holds(for: &record, spare: &spare), nowMs: nowMs)
    }

    override func keeps(conditionHolds: Bool, nowMs: Int64) -> Bool { conditionHolds == keepsMatches }
}

extension DropFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter { MatchFilter(try FieldCondition(condition), keepsMatches: false) }
}

extension KeepFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter { MatchFilter(try FieldCondition(condition), keepsMatches: true) }
}
