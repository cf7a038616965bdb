/// How many connections the health server keeps open (HealthLoop.swift says what happens at the cap).
package enum ConnectionLimiter {
    /// A few dozen serve probes and a scraper; a small descriptor limit lowers it, keeping most in reserve.
    package static func maximum(descriptorLimit: Int) -> Int {
        min(64, max(4, (descriptorLimit - 128) / 4))
    }
}
