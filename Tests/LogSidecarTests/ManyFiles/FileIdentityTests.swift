import Glibc
import Testing

@testable import Records
@testable import Tailing

/// How a file is known by its first bytes: the fingerprint kept in checkpoints and the quick digest
/// the truncation check compares in memory.
@Suite("file identity")
struct FileIdentityTests {
    @Test("the quick digest tells apart every one-bit change of 256 bytes and every length of them")
    func quickDigestSpreads() {
        var bytes = (0..<FileIdentity.maximumPrefix).map { _ in UInt8.random(in: 0...255) }
        var digests: Set<UInt64> = []
        var inputs = 0
        for length in 0...bytes.count {
            digests.insert(bytes.withUnsafeBytes { FileIdentity.quickDigest(UnsafeRawBufferPointer(rebasing: $0[0..<length])) })
            inputs += 1
        }
        for index in bytes.indices {
            for bit in 0..<8 {
                bytes[index] ^= 1 << bit
                digests.insert(bytes.withUnsafeBytes { FileIdentity.quickDigest($0) })
                bytes[index] ^= 1 << bit
                inputs += 1
            }
        }
        #expect(digests.count == inputs)
    }

    @Test("a followed file's first bytes rewritten in place no longer match, by either digest; put back, they do")
    func prefixRewritten() throws {
        let directory = TestDirectory()
        for size in [40, 300] {
            let text = String((0..<size).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122))) })
            directory.write("app.log", text)
            let file = try #require(
                try TailedFile.open(
                    path: directory.file("app.log"), listed: true, offset: 0, buffer: ReadBuffer(), maxLineBytes: 1024, nowMs: 0))
            let descriptor = try #require(file.descriptor)
            let writer = open(directory.file("app.log"), O_WRONLY)
            defer { close(writer) }
            for round in 0..<2 {
                #expect(try file.prefixMatches(descriptor), "size \(size), round \(round): untouched")
                #expect(pwrite(writer, "#", 1, 7) == 1)
                #expect(try !file.prefixMatches(descriptor), "size \(size), round \(round): one byte changed")
                #expect(try !file.identity.prefixMatches(descriptor))
                #expect(pwrite(writer, text.utf8.map { $0 }, 8, 0) == 8)
            }
            #expect(ftruncate(writer, 5) == 0)
            #expect(try !file.prefixMatches(descriptor), "size \(size): shorter than its fingerprint")
        }
    }
}
