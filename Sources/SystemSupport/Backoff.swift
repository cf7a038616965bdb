/// Capped exponential backoff: the cap of each attempt doubles from `firstMs` up to `maximumMs`.
/// With `jitter`, a wait is a random point between 0 and that cap (full jitter), so that sidecars that
/// lost the same receiver do not come back in step; without it, the wait is the cap. Every retry in
/// the program waits with one: the fan-out's sinks, the HTTP receivers and exec mode's restarts.
package struct Backoff {
    package let firstMs: Int64
    package let maximumMs: Int64
    package let jitter: Bool
    package private(set) var attempt = 0

    package init(firstMs: Int64, maximumMs: Int64, jitter: Bool) {
        (self.firstMs, self.maximumMs, self.jitter) = (firstMs, max(0, maximumMs), jitter)
    }

    /// The wait before the next attempt.
    package mutating func next() -> Int64 {
        defer { attempt += 1 }
        // The shift stops long before it could overflow, and the cap is reached long before that.
        let ceiling = min(maximumMs, firstMs << Int64(min(attempt, 30)))
        return jitter ? Int64.random(in: 0...ceiling) : ceiling
    }

    /// The next wait starts from `firstMs` again.
    package mutating func reset() { attempt = 0 }
}
