import CZlib

/// gzip bodies through zlib (level 1: JSON lines still shrink 5 to 10 times, at several times
/// level 6's speed). One stream, reset per body, so its 256 KiB of state is allocated once.
final class Gzip {
    private var stream = z_stream()
    private var ready = false

    init() {
        let size = Int32(MemoryLayout<z_stream>.size)
        ready = deflateInit2_(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), size) == Z_OK
    }

    deinit { if ready { deflateEnd(&stream) } }

    /// `input` compressed into `output` (replacing its contents); false if zlib failed (the caller
    /// then sends the body uncompressed).
    func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Bool {
        guard ready, deflateReset(&stream) == Z_OK else { return false }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(bound)
        var finished = false
        var produced = 0
        withUnsafeMutablePointer(to: &stream) { stream in
            output.withUnsafeMutableBufferPointer(growingTo: bound) { buffer in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(input.count)
                stream.pointee.next_out = buffer.baseAddress
                stream.pointee.avail_out = uInt(bound)
                finished = deflate(stream, Z_FINISH) == Z_STREAM_END
                produced = bound - Int(stream.pointee.avail_out)
            }
        }
        output.removeLast(output.count - produced)
        return finished
    }
}

extension Array where Element == UInt8 {
    /// Grows the array to `count` bytes (zero-filled) and lends its storage.
    mutating func withUnsafeMutableBufferPointer(growingTo count: Int, _ body: (inout UnsafeMutableBufferPointer<UInt8>) -> Void) {
        if self.count < count { append(contentsOf: repeatElement(0, count: count - self.count)) }
        withUnsafeMutableBufferPointer { body(&$0) }
    }
}
