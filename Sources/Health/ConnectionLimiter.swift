import NIOCore

/// Caps the health server's open connections. At the cap the listening socket stops accepting, so
/// further clients wait in the kernel's backlog, not in our descriptor table: no client, however many
/// idle connections it opens, can take the descriptors that following, rotating and checkpointing need.
package final class ConnectionLimiter: ChannelInboundHandler {
    package typealias InboundIn = any Channel
    package typealias InboundOut = any Channel

    let maximum: Int
    private var open = 0

    init(maximum: Int) { self.maximum = maximum }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        open += 1
        let server = context.channel
        if open >= maximum { server.setOption(.autoRead, value: false).whenComplete { _ in } }
        // One event-loop thread serves the listener and every connection: the count needs no lock.
        let limiter = NIOLoopBound(self, eventLoop: context.eventLoop)
        child.closeFuture.whenComplete { _ in
            limiter.eventLoop.execute {
                let limiter = limiter.value
                limiter.open -= 1
                if limiter.open == limiter.maximum - 1 { server.setOption(.autoRead, value: true).whenComplete { _ in } }
            }
        }
        context.fireChannelRead(data)
    }

    /// A few dozen serve probes and a scraper; a small descriptor limit lowers it, keeping most in reserve.
    package static func maximum(descriptorLimit: Int) -> Int {
        min(64, max(4, (descriptorLimit - 128) / 4))
    }
}
