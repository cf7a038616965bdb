import Configuration
import Records

/// One entry of the filter chain: a new filter type is one file with a class like these and the
/// `FilterMaking` extension of its configuration type (`Configuration/Filters/FilterConfig.swift` says
/// the rest). Each keeps its own state (counts, windows) and runs on the reading loop's thread.
protocol RecordFilter: AnyObject {
    /// False drops the record. An edit writes the next version into `spare` and swaps the two, or
    /// leaves changes to top-level members pending (`FilterRecord+Pending.swift`).
    func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool
    /// The fields it looks up, for the chain's key index (`FilterKeys`); one left out is found by a
    /// search of the record's members instead.
    var fieldPaths: [FieldPath] { get }
}

/// A filter type's configuration that builds the filter (in the filter's own file, so the
/// configuration types build without the filters).
protocol FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> any RecordFilter
}

/// `drop` (the records that match go) and `keep` (the others go).
final class MatchFilter: RecordFilter {
    private let condition: FieldCondition
    private let keepsMatches: Bool

    init(_ condition: FieldCondition, keepsMatches: Bool) {
        self.condition = condition
        self.keepsMatches = keepsMatches
    }

    var fieldPaths: [FieldPath] { [condition.path] }

    func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        condition.holds(for: &record, spare: &spare) == keepsMatches
    }
}

extension DropFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> any RecordFilter { MatchFilter(try FieldCondition(condition), keepsMatches: false) }
}

extension KeepFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> any RecordFilter { MatchFilter(try FieldCondition(condition), keepsMatches: true) }
}
