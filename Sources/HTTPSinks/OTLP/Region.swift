import Glibc

/// Memory of its own anonymous mapping, for buffers that stay unresident until written
/// (`OTLPTemplates`); from the allocator when the mapping fails.
final class Region {
    private let base: UnsafeMutableRawPointer
    private let bytes: Int
    private let isMapped: Bool

    init(bytes: Int) {
        self.bytes = bytes
        if let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED {
            (base, isMapped) = (mapped, true)
        } else {
            (base, isMapped) = (.allocate(byteCount: bytes, alignment: 64), false)
        }
    }

    deinit {
        if isMapped { munmap(base, bytes) } else { base.deallocate() }
    }

    /// `piece` as its elements of `type`; valid while the region is.
    func buffer<Element>(_ piece: Carver.Piece, _ type: Element.Type) -> UnsafeMutableBufferPointer<Element> {
        UnsafeMutableBufferPointer(start: (base + piece.offset).bindMemory(to: type, capacity: piece.count), count: piece.count)
    }

    /// Where each buffer goes, one after another on 64-byte boundaries.
    struct Carver {
        struct Piece {
            let offset: Int
            let count: Int
        }

        private(set) var bytes = 0

        /// Room for `count` elements of `type`.
        mutating func take<Element>(_ type: Element.Type, _ count: Int) -> Piece {
            let offset = (bytes + 63) & ~63
            bytes = offset + MemoryLayout<Element>.stride * count
            return Piece(offset: offset, count: count)
        }
    }
}
