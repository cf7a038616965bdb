import Records
import TestSupport

/// The scanner's two walks over one line: the SIMD stages (`scanObject`, for lines of printable ASCII
/// without backslashes) and the byte by byte one (`scanObjectBytewise`) must reach the same verdict and,
/// on a valid line, report the same members; so must `scanTrustedObject`, which skips values, and
/// `RecordMembers`, the walk the filters take through small objects. The
/// first stage's build the CPU chose (AVX2 here) and its baseline build must give the same masks. An
/// odd first byte maps the rest onto JSON's own characters, so that deep, long and nearly valid lines
/// come often.
func fuzzScanner(_ input: UnsafeRawBufferPointer) {
    guard let selector = input.first else { return }
    var line = Array(input.dropFirst())
    if selector & 1 == 1 {
        let alphabet = Array(#"{}[]:,"  "ab0123456789.-+eEtruefalsnull{"k":[1,"v"]}"#.utf8)
        line = line.map { alphabet[Int($0) % alphabet.count] }
    }
    line.withUnsafeBytes { bytes in
        if let difference = FirstStageBuilds.difference(bytes) { fail(difference) }
        var fast: [JSONScanner.Member] = []
        var slow: [JSONScanner.Member] = []
        let fastObject = JSONScanner.scanObject(bytes) { fast.append($0) }
        let slowObject = JSONScanner.scanObjectBytewise(bytes) { slow.append($0) }
        let text = String(decoding: bytes, as: UTF8.self)
        if (fastObject == nil) != (slowObject == nil) {
            fail("verdicts differ on \(text): \(fastObject == nil ? "invalid" : "valid") against \(slowObject == nil ? "invalid" : "valid")")
        }
        if let fastObject, let slowObject,
            fastObject.range != slowObject.range || fastObject.memberCount != slowObject.memberCount
                || fastObject.needsRepair != slowObject.needsRepair
        {
            fail("objects differ on \(text)")
        }
        // A line found invalid half-way has reported some members before the fault (its callers drop
        // them): the SIMD walk finds a number's bad end before reporting its member, so it may report
        // fewer, never others.
        let same =
            (slowObject == nil ? fast.count <= slow.count : fast.count == slow.count)
            && zip(fast, slow).allSatisfy {
                $0.key == $1.key && $0.keyIsEscaped == $1.keyIsEscaped && $0.value == $1.value && $0.valueIsString == $1.valueIsString
            }
        if !same { fail("members differ on \(text)") }
        // A valid line, read again as a record of our own (values skipped, not checked): the same.
        if let slowObject {
            var trusted: [JSONScanner.Member] = []
            let trustedObject = JSONScanner.scanTrustedObject(bytes) { trusted.append($0) }
            let sameTrusted =
                trustedObject?.range == slowObject.range && trusted.count == slow.count
                && zip(trusted, slow).allSatisfy {
                    $0.key == $1.key && $0.keyIsEscaped == $1.keyIsEscaped && $0.value == $1.value && $0.valueIsString == $1.valueIsString
                }
            if !sameTrusted { fail("the trusted walk differs on \(text)") }
            var walked: [JSONScanner.Member] = []
            let walkedObject = RecordMembers.forEach(bytes) { walked.append($0) }
            if !walkedObject || walked != slow { fail("RecordMembers differs on \(text)") }
            checkNested(bytes, slow, slowObject, text)
        } else {
            // Not an object: the walk may report anything, but only within the bytes.
            _ = RecordMembers.forEach(bytes) { member in
                if member.key.upperBound > bytes.count || member.value.upperBound > bytes.count { fail("RecordMembers left the bytes on \(text)") }
            }
        }
    }
}

/// The scan that notes the members one level down (the filters'): the same verdict and members as
/// without, and, when it noted them all, each top-level object's members as `RecordMembers` walks
/// them, in order.
private func checkNested(_ bytes: UnsafeRawBufferPointer, _ members: [JSONScanner.Member], _ object: JSONScanner.Object, _ text: String) {
    let room = UnsafeMutablePointer<JSONScanner.Member>.allocate(capacity: 64)
    defer { room.deallocate() }
    var nested = NestedMembers(members: room, capacity: 64)
    var scanned: [JSONScanner.Member] = []
    let scannedObject = withUnsafeMutablePointer(to: &nested) { nested in JSONScanner.scanObject(bytes, nested: nested) { scanned.append($0) } }
    guard scannedObject?.range == object.range, scanned == members else {
        fail("the scan that notes nested members differs on \(text)")
    }
    guard nested.isComplete else { return }
    var expected: [JSONScanner.Member] = []
    for member in members where bytes[member.value.lowerBound] == UInt8(ascii: "{") {
        let base = member.value.lowerBound
        _ = RecordMembers.forEach(UnsafeRawBufferPointer(rebasing: bytes[member.value])) { inner in
            expected.append(
                JSONScanner.Member(
                    key: (inner.key.lowerBound + base)..<(inner.key.upperBound + base), keyIsEscaped: inner.keyIsEscaped,
                    value: (inner.value.lowerBound + base)..<(inner.value.upperBound + base), valueIsString: inner.valueIsString))
        }
    }
    if Array(UnsafeBufferPointer(start: nested.members, count: nested.count)) != expected { fail("nested members differ on \(text)") }
}
