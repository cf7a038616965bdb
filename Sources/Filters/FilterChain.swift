import Configuration
import Records

/// The configuration's `filters`, applied in order to one record at a time, before the enrichment
/// fields are added; counts what each drops until the pipeline collects the counts.
package final class FilterChain {
    private let filters: [RecordFilter]
    /// The same, each called without a retain and a release around the call (`filters` holds them
    /// as long as the chain lives): 15 million instructions of the 30 MB filter run.
    private let unretained: [Unmanaged<RecordFilter>]
    private var spare = FilterRecord()
    /// Records each filter dropped since the last `takeDropped`.
    private var dropped: [Int]
    private var droppedAny = false
    /// The batch's monotonic time, for throttle (the screen's too).
    package var nowMs: Int64 = 0 {
        didSet { screen?.nowMs = nowMs }
    }
    /// The top-level keys the filters look up, for `FilterRecord.load` to index.
    package let keys: FilterKeys
    /// Where `FilterRecord.load` has the scanner note the members of the objects one level down.
    package let nested = NestedMemberStore()
    /// The chain decided on the enricher's own scan of a plain line, when every filter reads or edits
    /// fields the screen can (`FilterScreen`); nil otherwise, or when made without `screening` (the
    /// tests that compare the two).
    package let screen: FilterScreen?
    /// The same, lent to each line without a retain (`screen` holds it).
    package let unretainedScreen: Unmanaged<FilterScreen>?

    package init(_ configs: [FilterConfig], screening: Bool = true) throws(ConfigError) {
        var filters: [RecordFilter] = []
        for (index, config) in configs.enumerated() {
            do {
                filters.append(try Self.make(config))
            } catch {
                throw ConfigError(key: "filters[\(index)]", "\(config.name): \(error)")
            }
        }
        self.filters = filters
        unretained = filters.map { Unmanaged.passUnretained($0) }
        keys = FilterKeys(numbering: filters.flatMap(\.fieldPaths))
        dropped = Array(repeating: 0, count: filters.count)
        screen = screening ? FilterScreen(filters) : nil
        unretainedScreen = screen.map { Unmanaged.passUnretained($0) }
    }

    private static func make(_ config: FilterConfig) throws(PCRERegex.CompileError) -> RecordFilter {
        guard let maker = config.settings as? any FilterMaking else {
            throw PCRERegex.CompileError(message: "no filter is built for type \(config.type)", offset: 0)
        }
        return try maker.makeFilter()
    }

    /// False when a filter dropped the record (counted against that filter).
    package func apply(_ record: inout FilterRecord) -> Bool {
        for index in unretained.indices
        where !unretained[index]._withUnsafeGuaranteedRef({ $0.apply(&record, spare: &spare, nowMs: nowMs) }) {
            dropped[index] += 1
            droppedAny = true
            return false
        }
        return true
    }

    /// Counts a record filter `index` dropped where the screen decided it.
    package func countDrop(at index: Int) {
        dropped[index] += 1
        droppedAny = true
    }

    /// The counts since the last call, then zero; nil when nothing was dropped.
    package func takeDropped() -> [Int]? {
        guard droppedAny else { return nil }
        defer {
            for index in dropped.indices { dropped[index] = 0 }
            droppedAny = false
        }
        return dropped
    }
}
