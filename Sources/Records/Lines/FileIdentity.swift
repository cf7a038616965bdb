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
    static func prefixHash(_ fd: Int32, length: Int) throws(SystemError) -> UInt64? {
        try readPrefix(fd, length: length) { fnv1a($0) }
    }

    /// The first `length` bytes of the file behind `fd` (at most `maximumPrefix`), by the fingerprint's
    /// hash and by `quickDigest`; nil when the file is shorter than that.
    package static func prefixDigests(_ fd: Int32, length requested: Int) throws(SystemError) -> (fingerprint: UInt64, quick: UInt64)? {
        try readPrefix(fd, length: requested) { (fnv1a($0), quickDigest($0)) }
    }

    /// `quickDigest` of the first `length` bytes of the file behind `fd`; nil when it is shorter.
    package static func quickPrefixDigest(_ fd: Int32, length: Int) throws(SystemError) -> UInt64? {
        try readPrefix(fd, length: length) { quickDigest($0) }
    }

    private static func readPrefix<Digest>(
        _ fd: Int32, length requested: Int, _ digest: (UnsafeRawBufferPointer) -> Digest
    ) throws(SystemError) -> Digest? {
        let length = min(max(requested, 0), maximumPrefix)
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumPrefix, alignment: 8)
        defer { bytes.deallocate() }
        guard let base = bytes.baseAddress else { return nil }
        let count = try FileIO.pread(fd, into: base, count: length, offset: 0)
        if count < length { return nil }
        return digest(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
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

    /// A digest of a file's first bytes for comparisons in memory only (never written to a checkpoint):
    /// eight bytes a step in four independent lanes, where FNV-1a takes one byte a step in one chain of
    /// multiplications. A busy file's truncation check compares its first bytes on every change.
    package static func quickDigest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89)
        func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let product = (lane ^ word) &* multiplier
            return product ^ (product >> 29)
        }
        var index = 0
        while index + 32 <= bytes.count {
            lanes.0 = mix(lanes.0, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            lanes.1 = mix(lanes.1, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)))
            lanes.2 = mix(lanes.2, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)))
            lanes.3 = mix(lanes.3, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)))
            index += 32
        }
        while index < bytes.count {
            lanes.0 = mix(lanes.0, UInt64(bytes[index]) | 0x100)
            index += 1
        }
        var hash = UInt64(bytes.count) ^ lanes.0 ^ lanes.1.rotated(17) ^ lanes.2.rotated(31) ^ lanes.3.rotated(47)
        // MurmurHash3's finaliser: every input bit reaches every output bit.
        hash = (hash ^ (hash >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        hash = (hash ^ (hash >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 33)
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

extension UInt64 {
    fileprivate func rotated(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
