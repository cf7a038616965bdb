import Configuration
import Records

/// `throttle`: at most `perSecond` records in each second (fixed one-second windows from the first
/// record, on the monotonic clock read once per batch); records matching `unless` pass and are not counted.
final class ThrottleFilter: RecordFilter {
    private let perSecond: Int
    private let unless: FieldCondition?
    private var windowStartMs: Int64 = .min
    private var taken = 0

    init(perSecond: Int, unless: FieldCondition?) {
        self.perSecond = perSecond
        self.unless = unless
    }

    override var fieldPaths: [FieldPath] { unless.map { [$0.path] } ?? [] }
    override var screenRole: ScreenRole? { .decides(unless) }

    override func apply(_ record: inout FilterRecord, spare: inout FilterRecord, nowMs: Int64) -> Bool {
        keeps(conditionHolds: unless?.holds(for: &record, spare: &spare) ?? false, nowMs: nowMs)
    }

    override func keeps(conditionHolds: Bool, nowMs: Int64) -> Bool {
        if conditionHolds { return true }
        if windowStartMs == .min || nowMs - windowStartMs >= 1000 {
            windowStartMs = windowStartMs == .min ? nowMs : nowMs - (nowMs - windowStartMs) % 1000
            taken = 0
        }
        guard taken < perSecond else { return false }
        taken += 1
        return true
    }
}

extension ThrottleFilterConfig: FilterMaking {
    func makeFilter() throws(PCRERegex.CompileError) -> RecordFilter {
        ThrottleFilter(perSecond: perSecond, unless: try unless.map { condition throws(PCRERegex.CompileError) in try FieldCondition(condition) })
    }
}
