import Configuration
import LogSidecar
import Records
import SystemSupport

/// The options that are not configuration keys; every other `--flag` is a key of `ConfigSchema`.
/// Parsed by hand: swift-argument-parser links FoundationEssentials (binary 20.0 -> 12.4 MB stripped,
/// 1.2 MiB of idle RSS in a daemon whose budget is 10; Benchmarks/README.md has the figures).
struct CommandLineOptions {
    var configFile: String?
    var checkConfig = false
    var logLevel = "info"
    var showHelp = false
    var showVersion = false
    var showConfigReference = false
    /// `--key value` pairs for `ConfigLoader`.
    var settings: [String] = []
    /// Everything after `--`: the application to run (exec mode).
    var command: [String] = []

    static let version = "0.1.0"

    static func parse(_ arguments: [String]) throws(ConfigError) -> CommandLineOptions {
        var options = CommandLineOptions()
        var index = 0
        func value(_ flag: String) throws(ConfigError) -> String {
            index += 1
            guard index < arguments.count else { throw ConfigError(key: flag, "needs a value") }
            return arguments[index]
        }
        func inlineOrNext(_ inline: String?, _ flag: String) throws(ConfigError) -> String {
            if let inline { return inline }
            return try value(flag)
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                options.command = Array(arguments[(index + 1)...])
                guard !options.command.isEmpty else { throw ConfigError(key: "--", "needs the command to run after it") }
                break
            }
            let (flag, inline) = split(argument)
            switch flag {
            case "--config": options.configFile = try inlineOrNext(inline, flag)
            case "--log-level": options.logLevel = try inlineOrNext(inline, flag)
            case "--check-config": options.checkConfig = true
            case "--help", "-h": options.showHelp = true
            case "--version": options.showVersion = true
            case "--config-reference": options.showConfigReference = true
            default:
                guard argument.hasPrefix("--") else { throw ConfigError(key: argument, "unexpected argument; options start with --") }
                // A configuration key and its value: ConfigLoader.parseFlags knows the keys and says
                // which one is unknown or lacks its value.
                options.settings.append(argument)
                if inline == nil && index + 1 < arguments.count {
                    index += 1
                    options.settings.append(arguments[index])
                }
            }
            index += 1
        }
        return options
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    static var help: String {
        var text = """
            OVERVIEW: Follow JSON-lines (or text) files matched by paths and globs through every rotation,
            enrich each record, and ship it to stdout, files, journald or HTTP receivers (ClickHouse, OTLP,
            Loki, Elasticsearch, any ndjson endpoint; HTTP sinks are set in the config file). Health on
            /healthz /readyz /health /metrics.

            USAGE: log-sidecar [--config <file>] [--check-config] [--log-level <level>] [--<key> <value> ...]
                   log-sidecar [options] -- <command> [<argument> ...]
                     (exec mode: runs the command as a child and ships its stdout and stderr, each line with
                     "stream"; forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, and exits
                     with its status; no file is followed unless input.path or input.paths is set)

            OPTIONS:
              --config <file>      JSON configuration file (see config.example.json)
              --check-config       print the effective configuration as JSON and exit 0, or name the bad key and exit 2
              --log-level <level>  diagnostics on stderr: trace, debug, info, notice, warning, error, critical (default info)
              --config-reference   print every key, the sinks' and the filters' too, as Markdown
                                   (docs/configuration-keys.md)
              --version            print the version
              -h, --help           show this help

            CONFIGURATION KEYS (config file < environment < flags):

            """
        for setting in ConfigSchema.settings {
            let rendered = setting.render(Config())
            if setting.fileOnly {
                text += "  \(setting.path) (config file only)\n      \(setting.help)\n"
                continue
            }
            let fallback = rendered == .null ? "none (see input.path)" : rendered.serialized
            text += "  \(setting.flag) <value>\n      \(setting.help)\n      env \(setting.environmentVariable), default \(fallback)\n"
        }
        text += "\n  Each sink's and each filter's keys: log-sidecar --config-reference (docs/configuration-keys.md).\n"
        return text + """

            Exit codes: 0 clean stop; 1 an output may have lost records (fsync failed, stdout's reader gone):
            the checkpoint was not moved, so a restart replays; 2 bad configuration or start-up error;
            128+N a second SIGTERM or SIGINT (N) ended the drain at once.
            Exec mode: the command's own exit code (128+N when signal N killed it); 127 the command was not
            found, 126 it could not be executed; 1 and 2 as above.

            """
    }
}
