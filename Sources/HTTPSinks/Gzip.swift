import CZlib
import Glibc
import Records

/// gzip bodies through zlib (level 1: JSON lines still shrink 5 to 10 times, at several times
/// level 6's speed). One stream per thread that compresses, reset per body, so its 256 KiB of state
/// is allocated once. The output goes to the caller's buffer, grown to deflateBound's size: only the
/// pages the compressed body fills (a tenth of it, for JSON) become resident.
final class Gzip {
    private var stream = z_stream()
    private var ready = false

    init() {
        let size = Int32(MemoryLayout<z_stream>.size)
        ready = deflateInit2_(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), size) == Z_OK
    }

    deinit {
        if ready { deflateEnd(&stream) }
    }

    /// Replaces `output`'s bytes with `input` compressed; false if zlib failed (the caller then sends
    /// the body as it is, undeclared).
    func compress(_ input: UnsafeRawBufferPointer, into output: GrowableBytes) -> Bool {
        output.removeAll()
        guard ready, deflateReset(&stream) == Z_OK else { return false }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        return output.appendWritten(maximum: bound) { space in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = space.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(space.count)
            guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
            return space.count - Int(stream.avail_out)
        }
    }
}
