import Glibc

/// A failed system call: which call, on what, and the `errno` it left, as swift-nio's `IOError` does.
package struct SystemError: Error, CustomStringConvertible, Sendable {
    package let call: String
    package let subject: String
    package let errno: Int32

    package init(call: String, subject: String = "", errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    package var description: String {
        let reason = String(cString: strerror(errno))
        return subject.isEmpty ? "\(call): \(reason) (errno \(errno))" : "\(call) \(subject): \(reason) (errno \(errno))"
    }
}

/// Runs one system call, retrying `EINTR`; any other failure becomes a `SystemError` naming the call.
/// `EAGAIN` is returned as `nil` so non-blocking callers can treat "nothing now" as a value.
@inline(__always)
package func syscall<T: FixedWidthInteger>(
    _ call: StaticString, _ subject: @autoclosure () -> String = "", _ body: () -> T
) throws(SystemError) -> T? {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return nil }
        throw SystemError(call: "\(call)", subject: subject(), errno: code)
    }
}

/// The same for calls that never legitimately return `EAGAIN` (open, fstat, rename, fsync, ...).
@inline(__always)
package func syscallValue<T: FixedWidthInteger>(
    _ call: StaticString, _ subject: @autoclosure () -> String = "", _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemError(call: "\(call)", subject: subject(), errno: code)
    }
}
