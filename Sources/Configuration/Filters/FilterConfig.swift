import Records

/// One entry of the `filters` list as the configuration file gives it, validated (a pattern compiles).
package struct FilterConfig: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable { case drop, keep, remove, rename, redact, sample, throttle }

    /// `field` tested against `equals` (JSON scalars) or `matches` (a PCRE2 pattern).
    package struct Condition: Sendable, Equatable {
        package enum Test: Sendable, Equatable {
            case equals([JSONValue])
            case matches(String)
        }
        package var field: String
        package var test: Test
    }

    package var kind: Kind
    /// Counters and messages use it; `<type>#<index>` unless the file names it.
    package var name: String
    /// drop, keep: the records it applies to; sample, throttle: the records they let through (`unless`).
    package var condition: Condition?
    /// remove; redact (nil: every string of the record).
    package var fields: [String]?
    /// rename.
    package var from = ""
    package var to = ""
    /// redact: nil replaces the whole value.
    package var pattern: String?
    package var replacement = "***"
    /// sample: one record in `rate`; throttle: at most `perSecond` a second.
    package var rate = 0
    package var perSecond = 0

    package init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }
}
