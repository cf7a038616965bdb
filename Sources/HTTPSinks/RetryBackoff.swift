/// Capped exponential backoff with full jitter (a random wait between 0 and the cap of this attempt),
/// so sidecars that lost the same receiver do not come back in step.
struct RetryBackoff {
    static let baseMs = 100
    let maximumMs: Int
    private(set) var attempt = 0

    init(maximumMs: Int) { self.maximumMs = maximumMs }

    /// The wait before the next attempt; `retryAfterSeconds` (the receiver's own word) wins when given.
    mutating func next(retryAfterSeconds: Int? = nil) -> Int {
        defer { attempt += 1 }
        if let retryAfterSeconds { return min(retryAfterSeconds, 3600) * 1000 }
        let ceiling = min(maximumMs, Self.baseMs << min(attempt, 20))
        return Int.random(in: 0...ceiling)
    }
}
