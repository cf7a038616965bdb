import Health

/// A client's request head, read by the health server: never crash; a head parsed from the whole input
/// is parsed the same from any prefix that holds it, and no shorter prefix is a head (the server reads
/// a request in whatever pieces the socket gives).
func fuzzHealthRequest(_ input: UnsafeRawBufferPointer) {
    let whole = HTTPRequestHead.parse(input)
    guard case .head(let head, let length) = whole else { return }
    if length > input.count || length > HTTPRequestHead.maximumBytes { fail("head of \(length) bytes from \(input.count)") }
    if head.method.isEmpty || head.path.isEmpty { fail("a head without a method or a path") }
    let cut = length - 1 - Int(input[0]) % length
    let shorter = HTTPRequestHead.parse(UnsafeRawBufferPointer(rebasing: input[0..<cut]))
    if shorter != .incomplete { fail("a prefix of \(cut) bytes of a \(length)-byte head: \(shorter)") }
    if HTTPRequestHead.parse(UnsafeRawBufferPointer(rebasing: input[0..<length])) != whole { fail("the head alone parses otherwise") }
}
