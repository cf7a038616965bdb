import ArgumentParser
import Glibc
import LogSidecar
import Logging

/// Exit codes: 0 clean stop, 2 bad configuration or start-up error, 1 a failure while running.
struct LogSidecarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-sidecar",
        abstract: "Follow one JSON-lines file through every rotation, enrich each record, ship it to stdout, files or journald.",
        discussion: settingsHelp,
        version: "0.1.0")

    @Option(name: .long, help: "JSON configuration file (see config.example.json).")
    var config: String?

    @Flag(name: .long, help: "Print the effective configuration as JSON and exit 0, or name the bad key and exit 2.")
    var checkConfig = false

    @Option(name: .long, help: "Diagnostics on stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(visibility: .hidden))
    var settings: [String] = []

    static var settingsHelp: String {
        var text = "Every configuration key is also a flag and an environment variable (file < environment < flags):\n\n"
        for setting in ConfigSchema.settings {
            let fallback = setting.render(Config()).serialized
            text += "  \(setting.flag) <value>\n      \(setting.help)\n      env \(setting.environmentVariable), default \(fallback)\n"
        }
        return text
    }

    func loadConfig(environment: [String: String]) throws(ConfigError) -> Config {
        try ConfigLoader.load(file: config, environment: environment, flags: settings)
    }
}

func fail(_ message: String, code: Int32) -> Never {
    var text = "log-sidecar: " + message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(code)
}

// Before any thread exists, so that every thread inherits the blocked signals.
SignalHandling.blockSignals()

let command: LogSidecarCommand
do {
    command = try LogSidecarCommand.parse()
} catch {
    let code = LogSidecarCommand.exitCode(for: error)
    if code == .success { LogSidecarCommand.exit(withError: error) }
    fail(LogSidecarCommand.message(for: error) + "\n" + LogSidecarCommand.usageString(), code: 2)
}

let environment = Dictionary(Environment.variables(), uniquingKeysWith: { _, last in last })
let config: Config
do {
    config = try command.loadConfig(environment: environment)
} catch {
    fail("\(error)", code: 2)
}

if command.checkConfig {
    print(ConfigLoader.render(config).pretty)
    exit(0)
}

guard let level = Logger.Level(rawValue: command.logLevel) else {
    fail("invalid configuration: --log-level: expected one of trace, debug, info, notice, warning, error, critical", code: 2)
}
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}
let logger = Logger(label: "log-sidecar")

do {
    let daemon = try Daemon(config: config, logger: logger)
    SignalHandling.startWaiting(control: daemon.control) { signal in
        logger.notice("received signal", metadata: ["signal": "\(signal)"])
    }
    try daemon.run(environment: environment)
} catch let error as Daemon.StartError {
    fail(error.description, code: 2)
} catch {
    fail("\(error)", code: 2)
}
exit(0)
