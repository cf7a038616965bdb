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

    /// True for a filter that only reads, at most one field, and so can be decided on the enricher's
    /// scan (`FilterScreen`): it reads `screenCondition`'s field (none when nil) and decides with
    /// `keeps`.
    var isScreenable: Bool { false }
    var screenCondition: FieldCondition? { nil }

    /// Whether the record goes on, given whether `screenCondition` holds for it (false without one),
    /// with the filter's state moved as `apply` moves it: `apply` decides through it too.
    func keeps(conditionHolds: Bool, nowMs: Int64) -> Bool { true }
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
    override var isScreenable: Bool { true }
    override var screenCondition: FieldCondition? { condition }

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
