import Foundation
import Testing

/// Start-up errors are one clear line on stderr and exit code 2.
@Suite("Start-up errors")
struct StartupErrorTests {
    @Test("the health port in use: exit 2, naming the address")
    func portInUse() throws {
        let scenario = Scenario()
        let (holder, port) = try #require(HTTPClient.listen())
        defer { close(holder) }
        let result = try DaemonProcess.run(scenario.arguments(["--health-address", "127.0.0.1", "--health-port", "\(port)"]))
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot start the health server on 127.0.0.1:\(port)"), "stderr: \(result.stderr)")
        // In the system's words with what to do, not the library's internals.
        #expect(result.stderr.contains("Address already in use (errno 98): another process listens there"), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("descriptor:") && !result.stderr.contains("bind("), "stderr: \(result.stderr)")
    }
}
