/// What the file server knows of all its files at once, kept as each file changes rather than counted
/// after every pass: with a thousand files followed and ten of them written, loops over every file
/// after each pass were a fifth of a busy daemon's CPU (Benchmarks/README.md). A file reports to the
/// tally from `FileServer.track` until `FileServer.forget` (`TailedFile.tally`).
final class FileTally {
    /// The sum of the files' `lagBytes`.
    private(set) var lagBytes: Int64 = 0
    /// Files waiting for a descriptor under `input.max_open_files`.
    private(set) var waiting = 0
    /// A file's path changed, or a file came or went: the list of files that left the patterns is stale.
    var pathsMoved = true
    /// Every file not read to its end, so that a pass reads from these, not from a look at every file;
    /// it may also hold files forgotten or read to their end since, which `FileServer` weeds out.
    var unread: [TailedFile] = []

    func add(_ file: TailedFile) {
        lagBytes += file.lagBytes
        if !file.atEndOfFile { listUnread(file) }
        if file.waiting { waiting += 1 }
        pathsMoved = true
    }

    func remove(_ file: TailedFile) {
        lagBytes -= file.lagBytes
        if file.waiting { waiting -= 1 }
        pathsMoved = true
    }

    /// A file's lag moved from `before` to `after`.
    func lagMoved(from before: Int64, to after: Int64) { lagBytes += after - before }

    /// A file is no longer at its end (or was not when it came): it is read in the next round.
    func listUnread(_ file: TailedFile) {
        guard !file.listedUnread else { return }
        file.listedUnread = true
        unread.append(file)
    }

    /// A file started or stopped waiting for a descriptor.
    func waitingChanged(to waiting: Bool) { self.waiting += waiting ? 1 : -1 }
}
