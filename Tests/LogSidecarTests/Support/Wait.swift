import Foundation

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A bounded poll on a condition: returns as soon as it holds, fails after `seconds`.
func waitUntil(_ what: String, seconds: Double = 30, every interval: Double = 0.02, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: interval)
    }
    if try condition() { return }
    throw TimedOut(what: what)
}
