/// One entry of the `filters` list as the configuration file gives it, validated (a pattern compiles).
public struct FilterConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case drop, keep, remove, rename, redact, sample, throttle }

    /// `field` tested against `equals` (JSON scalars) or `matches` (a PCRE2 pattern).
    public struct Condition: Sendable, Equatable {
        public enum Test: Sendable, Equatable {
            case equals([JSONValue])
            case matches(String)
        }
        public var field: String
        public var test: Test
    }

    public var kind: Kind
    /// Counters and messages use it; `<type>#<index>` unless the file names it.
    public var name: String
    /// drop, keep: the records it applies to; sample, throttle: the records they let through (`unless`).
    public var condition: Condition?
    /// remove; redact (nil: every string of the record).
    public var fields: [String]?
    /// rename.
    public var from = ""
    public var to = ""
    /// redact: nil replaces the whole value.
    public var pattern: String?
    public var replacement = "***"
    /// sample: one record in `rate`; throttle: at most `perSecond` a second.
    public var rate = 0
    public var perSecond = 0

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }
}
