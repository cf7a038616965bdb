import Glibc
import SystemSupport

/// Which file this is, across renames and restarts: device and inode, plus a fingerprint of its first
/// bytes, because inodes are reused and a copy (copytruncate) has another inode but the same bytes.
package struct FileIdentity: Equatable, Sendable {
    package var device: UInt64
    package var inode: UInt64
    /// How many leading bytes the fingerprint covers (fewer than `maximumPrefix` while the file is short).
    package var prefixLength: Int
    package var fingerprint: UInt64

    package static let maximumPrefix = 256

    package init(device: UInt64, inode: UInt64, prefixLength: Int, fingerprint: UInt64) {
        self.device = device
        self.inode = inode
        self.prefixLength = prefixLength
        self.fingerprint = fingerprint
    }

    /// The identity of a file whose first bytes are `head` (at most `maximumPrefix` of them).
    package init(device: UInt64, inode: UInt64, head: [UInt8]) {
        let length = min(head.count, FileIdentity.maximumPrefix)
        self.init(device: device, inode: inode, prefixLength: length, fingerprint: FileIdentity.fingerprint(of: head, length: length))
    }

    /// The fingerprint of the first `length` bytes of `head` (at most its count).
    package static func fingerprint(of head: [UInt8], length: Int) -> UInt64 {
        head.withUnsafeBytes { fnv1a(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    /// True when the file behind `fd` still starts with the bytes this identity saw.
    package func prefixMatches(_ fd: Int32) throws(SystemError) -> Bool {
        if prefixLength == 0 { return true }
        return try FileIdentity.prefixHash(fd, length: prefixLength) == fingerprint
    }

    package func sameInode(_ status: FileStatus) -> Bool {
        status.device == device && status.inode == inode
    }

    /// Hash of the first `length` bytes, or nil when the file is shorter than that.
    static func prefixHash(_ fd: Int32, length requested: Int) throws(SystemError) -> UInt64? {
        let length = min(max(requested, 0), maximumPrefix)
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumPrefix, alignment: 1)
        defer { bytes.deallocate() }
        let count = try FileIO.pread(fd, into: bytes.baseAddress!, count: length, offset: 0)
        if count < length { return nil }
        return fnv1a(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
    }

    /// The first bytes of a file of `size` bytes, as many as a fingerprint covers.
    package static func head(_ fd: Int32, size: Int64) throws(SystemError) -> [UInt8] {
        let length = Int(min(Int64(maximumPrefix), max(0, size)))
        guard length > 0 else { return [] }
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 1)
        defer { raw.deallocate() }
        let count = try FileIO.pread(fd, into: raw.baseAddress!, count: length, offset: 0)
        return Array(raw[0..<count])
    }

    /// FNV-1a: tiny, stable across versions and architectures, enough to tell two files apart.
    package static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
