import CJSONClassify

/// The JSON scanner's first stage has two builds (AVX2 and the baseline) and the CPU picks one: the
/// unit tests and the fuzz target `scanner` hold the chosen one to the baseline.
package enum FirstStageBuilds {
    /// Every block of the line through both builds, in chunks of up to 16 (the walk takes 8): nil
    /// when they give the same verdict and, on a plain line, the same masks and carry; else what differs.
    package static func difference(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let chosenPlain = lsc_json_is_plain(base, bytes.count)
        if chosenPlain != lsc_json_is_plain_baseline(base, bytes.count) { return "the plainness builds differ" }
        let blocks = (bytes.count + 63) / 64
        var chosenCarry = lsc_json_carry()
        var baselineCarry = lsc_json_carry()
        var first = 0
        while first < blocks {
            let count = min(16, blocks - first)
            var chosen = [UInt64](repeating: 0, count: 32)
            var baseline = [UInt64](repeating: 0, count: 32)
            let chosenResult = chosen.withUnsafeMutableBufferPointer { masks in
                lsc_json_classify(base, bytes.count, first, count, &chosenCarry, masks.baseAddress, masks.baseAddress.map { $0 + 16 })
            }
            let baselineResult = baseline.withUnsafeMutableBufferPointer { masks in
                lsc_json_classify_baseline(
                    base, bytes.count, first, count, &baselineCarry, masks.baseAddress, masks.baseAddress.map { $0 + 16 })
            }
            if chosenResult != baselineResult { return "the builds differ in plainness from block \(first)" }
            if chosenResult == 0 { return chosenPlain == 0 ? nil : "a plain line was found not plain from block \(first)" }
            if chosen != baseline || chosenCarry.in_string != baselineCarry.in_string || chosenCarry.in_scalar != baselineCarry.in_scalar {
                return "the builds' masks differ from block \(first)"
            }
            first += count
        }
        return chosenPlain == 0 ? "a line not plain was classified plain throughout" : nil
    }
}
