import Records

/// The room a `RecordReader` owns: the members of the records it scans itself, and the enrichment
/// field of each flagged member. Allocated once and grown, never shrunk, so a record's members are
/// read through a pointer with no array's retain, uniqueness check or bounds check; the addresses
/// stay until the next `reserve` that grows it, which only the reader's next `read` calls.
final class ReaderRoom {
    private(set) var members: UnsafeMutableBufferPointer<PackedMember>
    private(set) var sources: UnsafeMutableBufferPointer<EnrichmentField.Source?>

    /// The enricher's members at the end of the last record whose members it kept, as bytes (from the
    /// first one's key to the last one's value), and what `RecordReader.take` found them to be: the
    /// records of a batch end in the same suffix, so the next one's are told by one comparison.
    let suffix = UnsafeMutableRawBufferPointer.allocate(byteCount: ReaderRoom.suffixCapacity, alignment: 8)
    var suffixCount = -1
    let suffixSources = UnsafeMutableBufferPointer<EnrichmentField.Source?>.allocate(capacity: ReaderRoom.suffixCapacity)
    var suffixMembers = 0
    /// The processing time's place among them.
    var suffixTime: Int?
    /// Bytes, and members (no more than there are bytes).
    static let suffixCapacity = 256

    init() {
        members = .allocate(capacity: 16)
        sources = .allocate(capacity: 16)
        sources.initialize(repeating: nil)
        suffixSources.initialize(repeating: nil)
    }

    /// Room for at least `count` members and sources; what was in it is not kept.
    @inline(__always)
    func reserve(_ count: Int) {
        guard count > members.count else { return }
        grow(count)
    }

    private func grow(_ count: Int) {
        let capacity = Swift.max(count, 2 * members.count)
        members.deallocate()
        sources.deallocate()
        members = .allocate(capacity: capacity)
        sources = .allocate(capacity: capacity)
        sources.initialize(repeating: nil)
    }

    deinit {
        members.deallocate()
        sources.deallocate()
        suffix.deallocate()
        suffixSources.deallocate()
    }
}
