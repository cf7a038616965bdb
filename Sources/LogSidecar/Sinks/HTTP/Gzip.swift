import CZlib
import Glibc

/// gzip bodies through zlib (level 1: JSON lines still shrink 5 to 10 times, at several times
/// level 6's speed). One stream, reset per body, so its 256 KiB of state is allocated once. The output
/// goes to a malloc'ed buffer of deflateBound's size: only the pages the compressed body fills (a
/// tenth of it, for JSON) become resident, where a zero-filled array would touch all of them.
final class Gzip {
    private var stream = z_stream()
    private var ready = false
    private var output: UnsafeMutableRawPointer?
    private var capacity = 0

    init() {
        let size = Int32(MemoryLayout<z_stream>.size)
        ready = deflateInit2_(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), size) == Z_OK
    }

    deinit {
        if ready { deflateEnd(&stream) }
        free(output)
    }

    /// `input` compressed, valid until the next call; nil if zlib failed (the caller then sends the
    /// body as it is, undeclared).
    func compress(_ input: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard ready, deflateReset(&stream) == Z_OK else { return nil }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        if bound > capacity {
            free(output)
            output = malloc(bound)
            capacity = output == nil ? 0 : bound
        }
        guard let output else { return nil }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(capacity)
        guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
        return UnsafeRawBufferPointer(start: output, count: capacity - Int(stream.avail_out))
    }
}
