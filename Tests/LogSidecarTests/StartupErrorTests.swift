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
    }
}
