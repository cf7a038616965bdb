import Records

/// Up to 40 bytes held in the value itself, so that a class's property of this type is compared and
/// copied out with no array's retain and release: OTLP's last processing time as text, read once a
/// record.
struct InlineBytes {
    static let capacity = 40
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    private(set) var count = 0

    init() {}

    /// Nil when `bytes` is longer than `capacity`.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= Self.capacity else { return nil }
        count = bytes.count
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
    }

    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard other.count == count else { return false }
        guard count > 0, let theirs = other.baseAddress else { return true }
        return withUnsafeBytes(of: storage) { ShortCompare.equal($0.baseAddress.unsafelyUnwrapped, theirs, count) }
    }
}
