import Glibc

/// The soft limit on open descriptors (often 1024) is a default, not a need: raised to the hard limit
/// at start, as the kernel allows any process to. glibc's setrlimit issues prlimit64, which the systemd
/// unit's system-call filter allows.
package enum DescriptorLimit {
    /// Raises the soft limit to the hard one; returns the limit now in force.
    @discardableResult
    package static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}
