import Foundation

/// A tiny HTTP/1.1 client over a real loopback socket, so requests can also be malformed on purpose.
enum HTTPClient {
    struct Response {
        let status: Int
        let body: String
    }

    /// Runs `call` with 127.0.0.1:`port` as a `sockaddr`, and its length.
    static func withLoopback<T>(port: Int, _ call: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A listening socket on 127.0.0.1:`port` (0: the kernel chooses), and the port it got.
    static func listen(port: Int = 0) -> (fd: Int32, port: Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard withLoopback(port: port, { bind(fd, $0, $1) }) == 0, Foundation.listen(fd, 1) == 0 else {
            close(fd)
            return nil
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A free loopback port (the kernel's choice, released at once).
    static func freePort() -> Int {
        guard let socket = listen() else { return 0 }
        close(socket.fd)
        return socket.port
    }

    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if withLoopback(port: port, { Foundation.connect(fd, $0, $1) }) != 0 {
            close(fd)
            return nil
        }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// The bytes the server sends until it closes the connection (or the read times out).
    static func readAll(_ fd: Int32) -> [UInt8] {
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return data }
            data += chunk[0..<n]
        }
    }

    /// Reads until the server closes the connection; nil when it closed without answering.
    static func readResponse(_ fd: Int32) -> Response? {
        let text = String(decoding: readAll(fd), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else { return nil }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Response(status: status, body: body)
    }

    static func request(port: Int, _ raw: String) -> Response? {
        guard let fd = connect(port: port) else { return nil }
        defer { close(fd) }
        send(fd, Array(raw.utf8))
        return readResponse(fd)
    }

    static func get(port: Int, _ path: String, method: String = "GET") -> Response? {
        request(port: port, "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    }
}
