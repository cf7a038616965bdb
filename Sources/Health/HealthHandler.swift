import NIOCore
import NIOHTTP1

/// Answers the four endpoints of the health contract; everything else is 404 or 405.
final class HealthHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let status: HealthStatus
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private static let maximumBodyBytes = 64 * 1024

    init(status: HealthStatus) { self.status = status }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > Self.maximumBodyBytes { context.close(promise: nil) }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            respond(to: requestHead, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let (code, contentType, body) = route(method: request.method, path: path)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.utf8.count))
        if code == .methodNotAllowed { headers.add(name: "allow", value: "GET, HEAD") }
        let keepAlive = request.isKeepAlive
        headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: code, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        if !keepAlive {
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func route(method: HTTPMethod, path: String) -> (HTTPResponseStatus, String, String) {
        let known = ["/healthz", "/readyz", "/health", "/metrics"]
        guard known.contains(path) else { return (.notFound, "text/plain", "not found; try /healthz /readyz /health /metrics\n") }
        guard method == .GET || method == .HEAD else { return (.methodNotAllowed, "text/plain", "method not allowed\n") }
        switch path {
        case "/healthz":
            let problems = status.problems()
            return problems.isEmpty
                ? (.ok, "text/plain", "ok\n")
                : (.serviceUnavailable, "text/plain", problems.joined(separator: "\n") + "\n")
        case "/readyz":
            return status.isReady
                ? (.ok, "text/plain", "ready\n")
                : (.serviceUnavailable, "text/plain", "waiting for the input file to appear\n")
        case "/health":
            return (.ok, "application/json", status.json())
        default:
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", MetricsExposition.render(status))
        }
    }
}
