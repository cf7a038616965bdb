/// Where a line came from: a followed file (by the path it was found under), one of the exec-mode
/// child's output streams, or the journal (a record its reader built from an entry).
package enum LineSource: Equatable, Sendable {
    case file(origin: String)
    case stream(ChildStream)
    case journal
}

/// The child's output pipes, named as the `stream` field names them.
package enum ChildStream: String, Sendable, CaseIterable {
    case stdout, stderr
}
