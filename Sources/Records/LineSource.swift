/// Where a line came from: a followed file (by the path it was found under) or one of the exec-mode
/// child's output streams.
package enum LineSource: Equatable, Sendable {
    case file(origin: String)
    case stream(ChildStream)
}

/// The child's output pipes, named as the `stream` field names them.
package enum ChildStream: String, Sendable, CaseIterable {
    case stdout, stderr
}
