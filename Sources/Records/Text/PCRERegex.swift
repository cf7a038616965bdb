import CPCRE2

/// A PCRE2 pattern compiled once (UTF mode, JIT-compiled where the CPU allows), with its own match
/// data: one instance serves one thread, the reading loop's.
package final class PCRERegex {
    package struct CompileError: Error, CustomStringConvertible {
        package let message: String
        /// The byte of the pattern where PCRE2 gave up.
        package let offset: Int

        package init(message: String, offset: Int) { (self.message, self.offset) = (message, offset) }
        package var description: String { offset < 0 ? message : "\(message) at byte \(offset)" }
    }

    private let code: OpaquePointer
    private let matchData: OpaquePointer
    /// `matchData`'s offsets, where they stay for its life: taken once, not with a call a match.
    private let ovector: UnsafeMutablePointer<Int>?
    private let ovectorPairs: Int
    /// The pattern was JIT-compiled: a match of valid UTF-8 goes straight to the compiled code
    /// (`pcre2_jit_match`), past `pcre2_match`'s checks of its arguments, a third of a short match.
    private let isJIT: Bool
    /// The pattern is one branch that starts with `^` (no `|` anywhere; PCRE2_MULTILINE is never set
    /// here): it matches at the subject's start or nowhere, so `replaceAll` looks no further after a
    /// match. (PCRE2's own flag for anchored patterns is set by `\G` and `.*` too, which can match
    /// again further on.)
    private let matchesOnlyAtStart: Bool
    private var output: [UInt8] = []
    /// PCRE2 wants a pointer even for an empty subject; never written.
    private nonisolated(unsafe) static let emptyPointer: UnsafePointer<UInt8> = {
        let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()

    package init(_ pattern: String) throws(CompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let text = Array(pattern.utf8)
        let compiled = text.withUnsafeBufferPointer { pointer in
            pcre2_compile_8(pointer.baseAddress ?? Self.emptyPointer, pointer.count, UInt32(PCRE2_UTF), &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            let length = pcre2_get_error_message_8(errorCode, &message, message.count)
            throw CompileError(message: String(decoding: message.prefix(max(0, Int(length))), as: UTF8.self), offset: errorOffset)
        }
        // Without JIT (a CPU or kernel that refuses executable memory) pcre2_match interprets: slower, same answers.
        let jit = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        guard let data = pcre2_match_data_create_from_pattern_8(compiled, nil) else {
            pcre2_code_free_8(compiled)
            throw CompileError(message: "out of memory", offset: 0)
        }
        code = compiled
        matchData = data
        ovector = pcre2_get_ovector_pointer_8(data)
        ovectorPairs = Int(pcre2_get_ovector_count_8(data))
        isJIT = jit
        matchesOnlyAtStart = text.first == UInt8(ascii: "^") && !text.contains(UInt8(ascii: "|"))
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    /// Whether the pattern matches somewhere in `subject` (UTF-8; text that is not is never matched).
    package func matches(_ subject: UnsafeRawBufferPointer) -> Bool { matches(subject, isASCII: false) }

    /// `matches`, where `isASCII` says the caller knows `subject` is ASCII (a plain line's string), so
    /// it is not looked at. (Not a default argument: its generator was a call across the module.)
    package func matches(_ subject: UnsafeRawBufferPointer, isASCII: Bool) -> Bool {
        // PCRE2 checks a subject's UTF-8 before every match, a pass as long as the match itself: ASCII
        // needs no check, and finding that it is ASCII costs a word-wide OR per eight bytes.
        // (PCRE2_MATCH_INVALID_UTF, which needs no check, made the JIT's match 50 % slower: callgrind.)
        guard isASCII || Self.isASCII(subject) else { return pcre2_match_8(code, Self.pointer(subject), subject.count, 0, 0, matchData, nil) >= 0 }
        return match(subject, from: 0, options: 0) >= 0
    }

    /// A match of `subject`, valid UTF-8, from `start`: through the JIT's own entry when the pattern has
    /// JIT code and `options` do not ask for an anchored match (which that entry ignores).
    private func match(_ subject: UnsafeRawBufferPointer, from start: Int, options: UInt32) -> Int32 {
        if isJIT && options & UInt32(PCRE2_ANCHORED) == 0 {
            return pcre2_jit_match_8(code, Self.pointer(subject), subject.count, start, options, matchData, nil)
        }
        return pcre2_match_8(code, Self.pointer(subject), subject.count, start, options | UInt32(PCRE2_NO_UTF_CHECK), matchData, nil)
    }

    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var high: UInt64 = 0
        var index = 0
        while index + 8 <= bytes.count {
            high |= (base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            high |= UInt64(bytes[index])
            index += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    /// The pattern's named groups, in the order they open in it; one entry per name.
    package var namedGroups: [(name: [UInt8], number: Int)] {
        var count: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        guard pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &count) == 0, count > 0,
            pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize) == 0,
            pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table) == 0, let table
        else { return [] }
        var groups: [(name: [UInt8], number: Int)] = []
        for index in 0..<Int(count) {
            // Each entry: the group's number in two bytes, most significant first, then its name and a NUL.
            let entry = table + index * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            var name: [UInt8] = []
            var at = 2
            while at < Int(entrySize), entry[at] != 0 {
                name.append(entry[at])
                at += 1
            }
            // (?J) lets several groups share a name: the first keeps it.
            if !groups.contains(where: { $0.name == name }) { groups.append((name, number)) }
        }
        return groups.sorted { $0.number < $1.number }
    }

    /// Matches `subject` and, when it matched, the range of group `number` in it for each of
    /// `groups` (nil for a group that did not take part); nil when it did not match.
    package func captures(_ subject: UnsafeRawBufferPointer, groups: [Int], into ranges: inout [Range<Int>?]) -> Bool {
        if ranges.count != groups.count { ranges = Array(repeating: nil, count: groups.count) }
        guard matches(subject), let ovector else {
            for index in ranges.indices { ranges[index] = nil }
            return false
        }
        let pairs = ovectorPairs
        let count = subject.count
        ranges.withUnsafeMutableBufferPointer { ranges in
            groups.withUnsafeBufferPointer { groups in
                for index in 0..<groups.count {
                    let number = groups[index]
                    let (start, end) = number < pairs ? (ovector[2 * number], ovector[2 * number + 1]) : (-1, -1)
                    // Unset groups are PCRE2_UNSET (all bits set); \K can put a start after its end.
                    ranges[index] = start >= 0 && start <= end && end <= count ? start..<end : nil
                }
            }
        }
        return true
    }

    /// `subject` with every match replaced by `replacement` (literal text), appended to `out`, with
    /// `enclosing` before and after it when given (a JSON string's quotes: in the same append as the
    /// text, most often); false (and nothing appended) when nothing matched. Empty matches as Perl and
    /// pcre2demo.c: never twice at one place, and the search moves on a whole UTF-8 character.
    package func replaceAll(
        _ subject: UnsafeRawBufferPointer, with replacement: [UInt8], isASCII: Bool, appendingTo out: inout [UInt8], enclosing: UInt8?
    ) -> Bool {
        guard matches(subject, isASCII: isASCII) else { return false }
        guard let ovector else {
            return enclose(with: enclosing, in: &out) { substitute(subject, with: replacement, appendingTo: &$0) }
        }
        let mark = out.count
        // The opening byte first, unless the pattern matches only at the start: its one match is
        // written in one append, the enclosing bytes with it.
        if !matchesOnlyAtStart, let enclosing { out.append(enclosing) }
        let count = subject.count
        var copied = 0
        while true {
            let (start, end) = (ovector[0], ovector[1])
            // \K in a lookaround can report a match that ends before it starts: leave that to PCRE2's own loop.
            guard start >= copied, end >= start else {
                out.removeSubrange(mark...)
                return enclose(with: enclosing, in: &out) { substitute(subject, with: replacement, appendingTo: &$0) }
            }
            if matchesOnlyAtStart {
                // The one match: what comes before it, the replacement and the rest in one append (an
                // array's append costs some ninety instructions before its copy).
                replacement.withUnsafeBytes {
                    Self.append(
                        UnsafeRawBufferPointer(rebasing: subject[..<start]), $0, UnsafeRawBufferPointer(rebasing: subject[end...]),
                        enclosing: enclosing, to: &out)
                }
                return true
            }
            out.appendBytes(UnsafeRawBufferPointer(rebasing: subject[copied..<start]))
            // Through its bytes: `append(contentsOf:)` takes the array owned, a retain and a release.
            replacement.withUnsafeBytes { out.appendBytes($0) }
            copied = end
            var from = end
            var options: UInt32 = 0
            if start == end {
                if end == count { break }
                // After an empty match, first a non-empty one at the same place.
                options |= UInt32(PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED)
            }
            var result = match(subject, from: from, options: options)
            if result == PCRE2_ERROR_NOMATCH && start == end {
                // None: move on one character and search freely.
                from += 1
                while from < count && subject[from] & 0xC0 == 0x80 { from += 1 }
                result = from > count ? PCRE2_ERROR_NOMATCH : match(subject, from: from, options: 0)
            }
            if result < 0 { break }
        }
        out.appendBytes(UnsafeRawBufferPointer(rebasing: subject[copied...]))
        if let enclosing { out.append(enclosing) }
        return true
    }

    /// What `body` appends, with `enclosing` before and after it when given; nothing when it appends nothing.
    private func enclose(with enclosing: UInt8?, in out: inout [UInt8], _ body: (inout [UInt8]) -> Bool) -> Bool {
        guard let enclosing else { return body(&out) }
        let mark = out.count
        out.append(enclosing)
        guard body(&out) else {
            out.removeSubrange(mark...)
            return false
        }
        out.append(enclosing)
        return true
    }

    /// Appends the three pieces with one append, between two `enclosing` bytes when given.
    private static func append(
        _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ third: UnsafeRawBufferPointer, enclosing: UInt8?,
        to out: inout [UInt8]
    ) {
        let count = first.count &+ second.count &+ third.count &+ (enclosing == nil ? 0 : 2)
        out.append(addingCapacity: count) { span in
            span.withUnsafeMutableBufferPointer { room, initialized in
                guard let base = room.baseAddress else { return }
                var at = UnsafeMutableRawPointer(base + initialized)
                func put(_ piece: UnsafeRawBufferPointer) {
                    guard let source = piece.baseAddress, piece.count > 0 else { return }
                    at.copyMemory(from: source, byteCount: piece.count)
                    at += piece.count
                }
                if let enclosing {
                    at.storeBytes(of: enclosing, as: UInt8.self)
                    at += 1
                }
                put(first)
                put(second)
                put(third)
                if let enclosing { at.storeBytes(of: enclosing, as: UInt8.self) }
                initialized &+= count
            }
        }
    }

    /// The same through `pcre2_substitute`, for what the loop above leaves to it.
    private func substitute(_ subject: UnsafeRawBufferPointer, with replacement: [UInt8], appendingTo out: inout [UInt8]) -> Bool {
        let options = UInt32(PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_LITERAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH)
        var capacity = max(output.count, subject.count + replacement.count * 4 + 16)
        for _ in 0..<2 {
            if output.count < capacity { output = [UInt8](repeating: 0, count: capacity) }
            var length = output.count
            let result = replacement.withUnsafeBufferPointer { replacementPointer in
                output.withUnsafeMutableBufferPointer { outputPointer in
                    pcre2_substitute_8(
                        code, Self.pointer(subject), subject.count, 0, options, matchData, nil,
                        replacementPointer.baseAddress ?? Self.emptyPointer, replacementPointer.count,
                        outputPointer.baseAddress, &length)
                }
            }
            if result >= 0 {
                // No substitution: nothing appended, as `replaceAll` says.
                guard result > 0 else { return false }
                out.append(contentsOf: output[..<length])
                return true
            }
            // Too small: PCRE2 said how much it needs (trailing zero included).
            guard result == PCRE2_ERROR_NOMEMORY else { return false }
            capacity = length + 1
        }
        return false
    }

    private static func pointer(_ subject: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
        subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyPointer
    }
}
