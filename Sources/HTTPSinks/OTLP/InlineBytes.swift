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

    @inline(__always)
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard other.count == count else { return false }
        guard count > 0, let theirs = other.baseAddress else { return true }
        return withUnsafeBytes(of: storage) { stored in
            let ours = stored.baseAddress.unsafelyUnwrapped
            // A time's text is 20 to 32 bytes: four words that overlap, where `ShortCompare` calls memcmp.
            guard count > 16, count <= 32 else { return ShortCompare.equal(ours, theirs, count) }
            let last = count &- 16
            return ours.loadUnaligned(as: UInt64.self) == theirs.loadUnaligned(as: UInt64.self)
                && ours.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == theirs.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                && ours.loadUnaligned(fromByteOffset: last, as: UInt64.self) == theirs.loadUnaligned(fromByteOffset: last, as: UInt64.self)
                && ours.loadUnaligned(fromByteOffset: last &+ 8, as: UInt64.self) == theirs.loadUnaligned(fromByteOffset: last &+ 8, as: UInt64.self)
        }
    }
}
