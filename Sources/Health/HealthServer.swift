import Configuration
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Telemetry

/// The HTTP side: one event-loop thread that only reads atomic counters, so it can never slow or block
/// the reading loop (NIO's default group would start a thread per core, each with its stack).
package final class HealthServer {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.group = group
        self.channel = channel
    }

    package static func start(config: Config, counters: Counters, maximumConnections: Int) throws -> HealthServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let status = HealthStatus(counters: counters, config: config.health)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimiter(maximum: maximumConnections))
                }
            }
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // Header size is bounded by the decoder (80 KiB): larger requests get 400 and are closed.
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    // An idle or half-sent request holds one of the few connections for at most this long.
                    try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(5)))
                    try pipeline.addHandler(HealthHandler(status: status))
                }
            }
        do {
            let channel = try bootstrap.bind(host: config.health.address, port: config.health.port).wait()
            return HealthServer(group: group, channel: channel)
        } catch let error as IOError {
            try? group.syncShutdownGracefully()
            throw StartFailure(errno: error.errnoCode)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// Why the server cannot listen, in the system's words (NIO's own text names its internal calls).
    struct StartFailure: Error, CustomStringConvertible {
        let errno: Int32
        var description: String {
            let reason = "\(String(cString: strerror(errno))) (errno \(errno))"
            if errno == EADDRINUSE {
                return reason + ": another process listens there; stop it, or choose another health.port (0 disables the server)"
            }
            return reason
        }
    }

    package func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}
