import Configuration
import Records

/// `sample`: keeps the first record of every `rate` (by count, so the same input keeps the same
/// records); records matching `unless` pass and are not counted.
final class SampleFilter: RecordFilter {
    private let rate: Int
    private let unless: FieldCondition?
    private var seen = 0

    init(rate: Int, unless: FieldCondition?) {
        self.rate = rate
        self.unless = unless
    }

    override var fieldPaths: [FieldPath] { unless.map { [$0.path] } ?? [] }
    override var screenRole: ScreenRole? { .decides(unless) }

    override func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        keeps(conditionHolds: unless?.holds(for: &record, spare: &spare) ?? false, nowMs: nowMs)
    }

    override func keeps(conditionHolds: Bool, nowMs: Int64) -> Bool {
        if conditionHolds { return true }
        defer { seen = seen == rate - 1 ? 0 : seen + 1 }
        return seen == 0
    }
}

extension SampleFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter {
        SampleFilter(rate: rate, unless: try unless.map { condition throws(PCRERegex.CompileError) in try FieldCondition(condition) })
    }
}
