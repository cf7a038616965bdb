import Configuration

/// `units`, `priority` and `matches` as sd-journal's match program, built the way `journalctl -u
/// UNIT -p PRIORITY FIELD=value` builds it, so that the two select the same entries.
package enum JournalQuery {
    package enum Term: Equatable, Sendable {
        case match(String)
        /// `sd_journal_add_disjunction`: what follows is an alternative to what came before.
        case or
        /// `sd_journal_add_conjunction`: what follows must hold as well.
        case and
    }

    /// journald's MESSAGE_ID of a core dump (systemd's `SD_MESSAGE_COREDUMP`).
    static let coredumpMessageID = "fc2e22bc6ee647b6b90729ab34a250b1"

    package static func terms(_ settings: JournaldSettings) -> [Term] {
        var terms: [Term] = []
        for unit in settings.units {
            // The unit's own messages; its core dumps; what systemd (PID 1) and other privileged
            // daemons say about it.
            terms += [.match("_SYSTEMD_UNIT=\(unit)"), .or]
            terms += [.match("MESSAGE_ID=\(coredumpMessageID)"), .match("_UID=0"), .match("COREDUMP_UNIT=\(unit)"), .or]
            terms += [.match("_PID=1"), .match("UNIT=\(unit)"), .or]
            terms += [.match("_UID=0"), .match("OBJECT_SYSTEMD_UNIT=\(unit)"), .or]
            if unit.hasSuffix(".slice") { terms += [.match("_SYSTEMD_SLICE=\(unit)"), .or] }
        }
        if !settings.units.isEmpty { terms.append(.and) }
        if let priority = settings.priority {
            terms += (0...priority).map { .match("PRIORITY=\($0)") }
            terms.append(.and)
        }
        terms += settings.matches.map(Term.match)
        return terms
    }
}

/// What the daemon hands the reader process on its command line: which journal, which entries, where
/// to start, how large a value may be.
package struct JournalReaderArguments: Equatable, Sendable {
    package enum Source: Equatable, Sendable {
        case local
        case directory(String)
        case namespace(String)
    }

    package var source = Source.local
    package var terms: [JournalQuery.Term] = []
    /// Continue after this entry; nil: start per `readFromEnd`.
    package var cursor: String?
    package var readFromEnd = false
    /// nil: every field.
    package var fields: [String]?
    package var maxValueBytes = 1 << 20

    package init() {}

    package init(settings: JournaldSettings, cursor: String?, readFromEnd: Bool, maxValueBytes: Int) {
        if !settings.directory.isEmpty {
            source = .directory(settings.directory)
        } else if !settings.namespace.isEmpty {
            source = .namespace(settings.namespace)
        }
        terms = JournalQuery.terms(settings)
        self.cursor = cursor
        self.readFromEnd = readFromEnd
        fields = settings.fields
        self.maxValueBytes = maxValueBytes
    }

    /// The flag that makes the executable a reader instead of the daemon.
    package static let flag = "--journal-reader"

    /// One `name=value` argument each, after `flag`.
    package var encoded: [String] {
        var arguments: [String] = []
        switch source {
        case .local: break
        case .directory(let path): arguments.append("directory=\(path)")
        case .namespace(let name): arguments.append("namespace=\(name)")
        }
        for term in terms {
            switch term {
            case .match(let match): arguments.append("match=\(match)")
            case .or: arguments.append("or")
            case .and: arguments.append("and")
            }
        }
        if let cursor { arguments.append("cursor=\(cursor)") }
        if readFromEnd { arguments.append("from=end") }
        if let fields { arguments.append("fields=\(fields.joined(separator: ","))") }
        arguments.append("max=\(maxValueBytes)")
        return arguments
    }

    package init?(decoding arguments: some Sequence<String>) {
        for argument in arguments {
            if argument == "or" {
                terms.append(.or)
                continue
            }
            if argument == "and" {
                terms.append(.and)
                continue
            }
            guard let equals = argument.firstIndex(of: "=") else { return nil }
            let value = String(argument[argument.index(after: equals)...])
            switch argument[..<equals] {
            case "directory": source = .directory(value)
            case "namespace": source = .namespace(value)
            case "match": terms.append(.match(value))
            case "cursor": cursor = value
            case "from": readFromEnd = value == "end"
            case "fields": fields = value.split(separator: ",").map(String.init)
            case "max":
                guard let number = Int(value), number > 0 else { return nil }
                maxValueBytes = number
            default: return nil
            }
        }
    }
}
