import HTTPSinks

/// A receiver's response, read by our plain-HTTP connection: never crash; fed whole or in two
/// pieces (the first byte picks where), the reader reaches the same verdict.
func fuzzHTTPResponse(_ input: UnsafeRawBufferPointer) {
    guard let selector = input.first else { return }
    let response = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    let whole = read(response, splitAt: response.count)
    let split = read(response, splitAt: Int(selector) % (response.count + 1))
    if whole != split { fail("split at \(Int(selector) % (response.count + 1)): \(split) against \(whole)") }
}

private struct Verdict: Equatable, CustomStringConvertible {
    var failure: HTTPResponseReader.Failure?
    var complete = false
    var status = 0
    var body: [UInt8] = []
    var retryAfter: Int?
    var code: Int?
    var keepAlive = false

    var description: String { "\(failure.map { "\($0)" } ?? "ok") complete \(complete) status \(status) body \(body.count)" }
}

private func read(_ bytes: UnsafeRawBufferPointer, splitAt split: Int) -> Verdict {
    var reader = HTTPResponseReader(bodyLimit: 100, now: { 0 })
    var verdict = Verdict()
    do {
        let used = try reader.consume(UnsafeRawBufferPointer(rebasing: bytes[0..<split]))
        if used == split && !reader.isComplete { _ = try reader.consume(UnsafeRawBufferPointer(rebasing: bytes[split...])) }
    } catch {
        verdict.failure = error
        return verdict
    }
    verdict.complete = reader.isComplete || reader.finish()
    (verdict.status, verdict.body, verdict.retryAfter, verdict.code) = (reader.status, reader.body, reader.retryAfterSeconds, reader.clickHouseCode)
    verdict.keepAlive = reader.keepAlive
    return verdict
}
