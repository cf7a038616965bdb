import Glibc

/// Gives the kernel back the pages of our own executable that start-up touched. With the Swift runtime
/// linked statically, the kernel's fault-around maps most of the 12 MB binary while we start (argument
/// parsing, configuration, NIO's bootstrap, the runtime's conformance scans), and those clean, file-backed
/// pages then count as our resident memory for the life of the process although the steady state uses a
/// small part of them. MADV_PAGEOUT (Linux 5.4) unmaps them; whatever is used again faults back in from
/// the page cache. Measured: Benchmarks/README.md, "Footprint". On older kernels this is a no-op.
package enum ColdPages {
    private static let adviceCode: Int32 = 21  // MADV_PAGEOUT, not in Glibc's headers on Debian 12

    package static func release() {
        guard let maps = try? FileIO.readFile("/proc/self/maps") else { return }
        var executable = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &executable, executable.count - 1)
        guard length > 0 else { return }
        let path = String(decoding: executable[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") where line.hasSuffix(path) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // Only read-only mappings: code and constants. Writable ones hold live data.
            guard fields.count >= 6, !fields[1].contains("w") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else { continue }
            _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), adviceCode)
        }
    }
}
