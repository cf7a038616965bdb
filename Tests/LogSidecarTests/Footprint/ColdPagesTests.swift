import Foundation
import Glibc
import Synchronization
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

        let smapsReads = ColdPages.smapsReads.load(ordering: .relaxed)
        ColdPages.release()

        #expect(ColdPages.smapsReads.load(ordering: .relaxed) > smapsReads, "mappings not known yet are found in smaps")
        #expect(Self.residentKB(at: clean) == 0, "the clean mapping's pages are no longer ours")
        #expect(relocated.load(as: UInt8.self) == UInt8(ascii: "B"), "a copied-on-write page is never thrown away")
        #expect(clean.load(as: UInt8.self) == UInt8(ascii: "A"), "a released page faults back in from the file")

        // Released again with the mappings known: from /proc/self/maps, with the same advice. Another
        // test's new file mapping in between sends a release to smaps: a few tries.
        var fromMaps = false
        for _ in 0..<5 where !fromMaps {
            for page in 0..<32 { sum += Int(clean.load(fromByteOffset: page * Self.pageSize, as: UInt8.self)) }
            #expect((Self.residentKB(at: clean) ?? 0) > 0)
            let before = ColdPages.smapsReads.load(ordering: .relaxed)
            ColdPages.release()
            fromMaps = ColdPages.smapsReads.load(ordering: .relaxed) == before
            #expect(Self.residentKB(at: clean) == 0)
            #expect(relocated.load(as: UInt8.self) == UInt8(ascii: "B"))
        }
        #expect(fromMaps, "a release with every mapping known does not read smaps")
    }

    /// What each mapping of a (trimmed) smaps gets: DONTNEED for read-only file mappings with no private
    /// copy, PAGEOUT for those with one, nothing for writable, anonymous or pseudo mappings.
    @Test("smaps lines give each mapping its advice; a mapping is known by its range and inode")
    func advice() {
        let smaps = """
            55f1e5c1b000-55f1e695c000 r-xp 00000000 fe:00 123 /usr/bin/log-sidecar
            Rss:                2544 kB
            Anonymous:             0 kB
            AnonHugePages:         0 kB
            VmFlags: rd ex mr mw me
            7f1378100000-7f1378121000 r--p 00000000 00:00 0
            Anonymous:             0 kB
            10000000000000000-10000000000001000 r--p 00000000 fe:00 77 /too-long
            Anonymous:             0 kB
            55f1e695d000-55f1e69bc000 r--p 00d41000 fe:00 123 /usr/bin/log-sidecar
            Anonymous:           380 kB
            55f1e69bc000-55f1e6b49000 rw-p 00da0000 fe:00 123 /usr/bin/log-sidecar
            Anonymous:           840 kB
            7f1378000000-7f1378021000 rw-p 00000000 00:00 0
            Anonymous:            12 kB
            7f138789e000-7f13878a0000 r-xp 00000000 00:00 0                          [vdso]
            Anonymous:             0 kB
            7f13878a0000-7f13878a1000 r--p 00000000 fe:00 77 /usr/lib/x86_64-linux-gnu/ld linux.so.2
            Anonymous:             0 kB
            zz-1 r--p 00000000 fe:00 77 /x
            Anonymous:             0 kB
            7f13878a1000-7f13878a2000 r--p 00000000 fe:00 7x7 /bad-inode
            Anonymous:             0 kB
            """
        var plan = SmapsAdvice()
        var advised: [String] = []
        for line in smaps.split(separator: "\n") {
            let bytes = Array(line.utf8)
            if let advice = bytes.withUnsafeBytes({ plan.line($0) }) {
                advised.append("\(String(advice.start, radix: 16)) \(advice.end - advice.start) \(advice.advice)")
            }
        }
        #expect(
            advised == [
                "55f1e5c1b000 \(0x55f1_e695_c000 - 0x55f1_e5c1_b000) \(MADV_DONTNEED)",
                "55f1e695d000 \(0x55f1_e69b_c000 - 0x55f1_e695_d000) \(ColdPages.pageOut)",
                "7f13878a0000 4096 \(MADV_DONTNEED)",
            ])
        let line = Array("7f13878a0000-7f13878a1000 r--p 00000000 fe:00 4294967307 /usr/lib/libc.so.6".utf8)
        let mapping = line.withUnsafeBytes { SmapsAdvice.mapping($0) }
        #expect(mapping.map { [$0.start, $0.end, $0.inode] } == [0x7f13_878a_0000, 0x7f13_878a_1000, 4_294_967_307] && mapping?.releasable == true)
    }
}
