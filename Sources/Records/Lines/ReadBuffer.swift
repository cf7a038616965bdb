/// The one read buffer that every followed file shares: a thousand quiet files cost their partial
/// lines, not a thousand buffers. The buffer holds one file's unsplit bytes at a time; when another
/// file claims it, the previous owner's incomplete last line moves into that file's own `carry`, so a
/// single busy file never copies anything and a switch copies at most one partial line.
package final class ReadBuffer {
    private(set) var bytes: UnsafeMutableRawPointer
    private(set) var capacity: Int
    let readSize: Int
    /// Unconsumed bytes of the owner are `bytes[start..<end]`.
    var start = 0
    var end = 0
    private var owner: SplitState?

    package init(readSize: Int = 256 << 10) {
        self.readSize = readSize
        capacity = readSize
        bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { bytes.deallocate() }

    func isOwned(by state: SplitState) -> Bool { owner === state }

    /// Makes `state`'s pending bytes the buffer's content, saving the previous owner's first.
    func claim(_ state: SplitState, maxLineBytes: Int) {
        if owner === state { return }
        if let previous = owner {
            previous.carry.removeAll(keepingCapacity: false)
            previous.carry.append(contentsOf: UnsafeRawBufferPointer(start: bytes + start, count: end - start))
        }
        start = 0
        end = 0
        owner = state
        if !state.carry.isEmpty {
            ensure(state.carry.count + readSize / 4, maxLineBytes: maxLineBytes)
            state.carry.withUnsafeBytes { bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            end = state.carry.count
            state.carry = []
        }
    }

    /// Forgets the owner's bytes (its file was truncated or its partial line shipped).
    func release(_ state: SplitState) {
        state.carry = []
        if owner === state {
            start = 0
            end = 0
        }
    }

    /// Moves pending bytes to the front, or grows while a line is still under the limit.
    func makeRoom(maxLineBytes: Int) {
        if capacity - end >= readSize / 4 { return }
        if start > 0 {
            bytes.copyMemory(from: bytes + start, byteCount: end - start)
            end -= start
            start = 0
        }
        if capacity - end < readSize / 4 { ensure(capacity * 2, maxLineBytes: maxLineBytes) }
    }

    private func ensure(_ wanted: Int, maxLineBytes: Int) {
        let grown = min(max(wanted, capacity), max(capacity, maxLineBytes + readSize))
        guard grown > capacity else { return }
        let replacement = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        replacement.copyMemory(from: bytes + start, byteCount: end - start)
        bytes.deallocate()
        bytes = replacement
        end -= start
        start = 0
        capacity = grown
    }
}

/// What one file's splitter keeps between reads while another file holds the shared buffer.
final class SplitState {
    /// The incomplete last line, while the buffer belongs to another file.
    var carry: [UInt8] = []
    /// While skipping the rest of an over-long line: its kept head, and how long the line is so far.
    var oversizedHead: [UInt8]?
    var oversizedLength = 0
}
