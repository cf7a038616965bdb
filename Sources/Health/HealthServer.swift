import CLinux
import Configuration
import Glibc
import SystemSupport
import Telemetry

/// The HTTP side: one thread of its own that polls the listening socket and its few connections and
/// only reads atomic counters, so it can never slow or block the reading loop. A quiet server sleeps in
/// `poll` without a timeout; a scrape touches this module's code and little else (a general-purpose
/// event loop mapped some thirty 64 KiB windows of code per scrape: Benchmarks/README.md, "Idle: the
/// health server without NIO").
package final class HealthServer: @unchecked Sendable {  // `thread` is set once, before anyone else sees the server
    private let listener: Int32
    /// A pipe: `stop` writes to its second end, the thread polls its first.
    private let wake: [Int32]
    private var thread: NamedThread?

    private init(listener: Int32, wake: [Int32]) {
        self.listener = listener
        self.wake = wake
    }

    package static func start(config: Config, counters: Counters, maximumConnections: Int) throws -> HealthServer {
        let listener = try listen(address: config.health.address, port: config.health.port)
        var wake: [Int32] = [-1, -1]
        guard clinux_pipe_cloexec(&wake) == 0 else {
            let failure = StartFailure(errno: errno)
            close(listener)
            throw failure
        }
        let server = HealthServer(listener: listener, wake: wake)
        let loop = HealthLoop(
            listener: listener, wake: wake[0], maximumConnections: maximumConnections,
            routes: HealthRoutes(status: HealthStatus(counters: counters, config: config.health)))
        do {
            server.thread = try NamedThread.start(name: "health") { loop.run() }
        } catch {
            close(listener)
            for fd in wake { close(fd) }
            throw error
        }
        return server
    }

    /// Wakes the thread, waits for it to close its connections, then closes the listening socket.
    package func stop() {
        var one: UInt8 = 1
        _ = write(wake[1], &one, 1)
        thread?.join()
        thread = nil
        close(listener)
        for fd in wake { close(fd) }
    }

    /// A listening socket on `address` (a literal or a name getaddrinfo resolves), close-on-exec so
    /// exec mode's child never inherits it, non-blocking for the poll loop.
    private static func listen(address: String, port: Int) throws(StartFailure) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(address, String(port), &hints, &found)
        guard resolved == 0, let first = found else {
            throw StartFailure(reason: "cannot resolve \(address): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartFailure(errno: errno) }
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, Glibc.listen(fd, 256) == 0 else {
            let failure = StartFailure(errno: errno)
            close(fd)
            throw failure
        }
        return fd
    }

    /// Why the server cannot listen, in the system's words.
    struct StartFailure: Error, CustomStringConvertible {
        let description: String

        init(reason: String) { description = reason }

        init(errno: Int32) {
            let reason = "\(String(cString: strerror(errno))) (errno \(errno))"
            description =
                errno == EADDRINUSE
                ? reason + ": another process listens there; stop it, or choose another health.port (0 disables the server)" : reason
        }
    }
}
