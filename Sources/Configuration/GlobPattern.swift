import Glibc
import SystemSupport

/// One entry of `input.paths`: a path whose components may hold glob(7) wildcards (`*`, `?`, `[...]`).
/// A component without one is looked up directly; one with a wildcard is matched against the names
/// in its directory with fnmatch(3), so a leading dot must be matched explicitly, as a shell does.
package struct GlobPattern: Equatable, Sendable {
    package let text: String
    /// "/" for an absolute pattern, "." for a relative one.
    package let root: String
    package let components: [String]

    package init(_ text: String) {
        self.text = text
        root = text.hasPrefix("/") ? "/" : "."
        components = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    package static func hasWildcard(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    package var isLiteral: Bool { !GlobPattern.hasWildcard(text) }

    /// Whether `path` (as discovery spells paths: root joined with the components) matches.
    package func matches(_ path: String) -> Bool {
        fnmatch(spelled, path, FNM_PATHNAME | FNM_PERIOD) == 0
    }

    /// The pattern as discovery spells the paths it finds.
    package var spelled: String { components.reduce(root) { Path.join($0, $1) } }

    /// `input.exclude` entries match the whole path, so `*.gz` excludes every compressed file.
    package static func excluded(_ path: String, by patterns: [String]) -> Bool {
        patterns.contains { fnmatch($0, path, 0) == 0 }
    }

    package static func componentMatches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, FNM_PERIOD) == 0
    }
}
