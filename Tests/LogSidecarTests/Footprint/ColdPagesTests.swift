import Foundation
import Glibc
import Testing

@testable import SystemSupport

/// `ColdPages.release` on real mappings of this test process: clean read-only pages of a file that only
/// we map leave our resident memory, and a private mapping that was written before it was made
/// read-only (as the loader does with relocations) keeps its copied-on-write bytes. (MADV_DONTNEED in
/// its place would drop them: the test process then crashes on its own relocations.)
@Suite("Cold pages")
struct ColdPagesTests {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The resident kB of the mapping that starts at `address`, from /proc/self/smaps.
    static func residentKB(at address: UnsafeRawPointer) -> Int? {
        // FileIO reads to the end: Foundation trusts /proc's st_size of 0.
        guard let bytes = try? FileIO.readFile("/proc/self/smaps") else { return nil }
        let smaps = String(decoding: bytes, as: UTF8.self)
        let start = String(UInt(bitPattern: address), radix: 16)
        var inside = false
        for line in smaps.split(separator: "\n") {
            if line.first?.isHexDigit == true, line.contains("-"), !line.hasSuffix(":") {
                inside = line.hasPrefix(start + "-")
            } else if inside, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ")[1])
            }
        }
        return nil
    }

    @Test("clean read-only file pages are unmapped; copied-on-write pages keep their bytes")
    func releases() throws {
        let path = NSTemporaryDirectory() + "cold-pages-\(getpid()).bin"
        let length = 32 * Self.pageSize
        try Data(repeating: UInt8(ascii: "A"), count: length).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }

        let clean = try #require(mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0).flatMap { $0 == MAP_FAILED ? nil : $0 })
        defer { munmap(clean, length) }
        let relocated = try #require(
            mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0).flatMap { $0 == MAP_FAILED ? nil : $0 })
        defer { munmap(relocated, length) }
        var sum = 0
        for page in 0..<32 { sum += Int(clean.load(fromByteOffset: page * Self.pageSize, as: UInt8.self)) }
        #expect(sum == 32 * Int(UInt8(ascii: "A")))
        relocated.storeBytes(of: UInt8(ascii: "B"), as: UInt8.self)
        #expect(mprotect(relocated, length, PROT_READ) == 0)
        #expect((Self.residentKB(at: clean) ?? 0) > 0)

        ColdPages.release()

        #expect(Self.residentKB(at: clean) == 0, "the clean mapping's pages are no longer ours")
        #expect(relocated.load(as: UInt8.self) == UInt8(ascii: "B"), "a copied-on-write page is never thrown away")
        #expect(clean.load(as: UInt8.self) == UInt8(ascii: "A"), "a released page faults back in from the file")
    }
}
