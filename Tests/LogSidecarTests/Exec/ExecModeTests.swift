import Foundation
import Testing

/// `log-sidecar -- COMMAND`: the real binary runs a real child (a Python program), ships what it prints
/// and behaves as its wrapper: signals, exit status, restarts, orphans, backpressure.
@Suite("Exec mode")
struct ExecModeTests {
    @Test(
        "100,000 JSON lines on stdout and 10,000 text lines on stderr, then exit 3: every line once, in order, with its stream; log-sidecar exits 3")
    func bothStreamsAndExitCode() throws {
        let exec = ExecHarness()
        let child = exec.script(
            "child.py",
            """
            import sys
            out, err = sys.stdout, sys.stderr
            for i in range(100000):
                out.write('{"seq":%d,"msg":"line %d"}\\n' % (i, i))
                if i % 10 == 0:
                    err.write('text line %d\\n' % (i // 10))
            out.flush()
            err.flush()
            sys.exit(3)
            """)
        let daemon = try exec.start(["python3", child])
        #expect(try daemon.waitForExit(seconds: 120) == 3)
        var stdout: [Int] = []
        var stderr: [String] = []
        var wrong: [String] = []
        for line in Output.lines(exec.output) {
            let record = try Output.object(line)
            switch record["stream"] as? String {
            case "stdout":
                if let seq = record["seq"] as? Int, record["msg"] as? String == "line \(seq)" {
                    stdout.append(seq)
                } else {
                    wrong.append(String(line))
                }
            case "stderr":
                if let message = record["message"] as? String, record["parse_error"] as? Bool == true {
                    stderr.append(message)
                } else {
                    wrong.append(String(line))
                }
            default: wrong.append(String(line))
            }
        }
        #expect(wrong.prefix(3) == [])
        #expect(stdout == Array(0..<100_000))
        #expect(stderr == (0..<10_000).map { "text line \($0)" })
    }

    @Test("signals reach the child (SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, then SIGTERM): its last line is shipped and log-sidecar exits 0")
    func signalsForwarded() throws {
        let exec = ExecHarness()
        let child = exec.script(
            "child.py",
            """
            import signal, sys, time
            def on(sig, frame):
                print('{"signal":%d}' % sig, flush=True)
                if sig == signal.SIGTERM:
                    print('{"last":true}', flush=True)
                    sys.exit(0)
            for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT):
                signal.signal(s, on)
            print('{"ready":true}', flush=True)
            while True:
                time.sleep(0.05)
            """)
        let daemon = try exec.start(["python3", child])
        try exec.waitForRecords(1)
        let signals = [SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT]
        for (index, signal) in signals.enumerated() {
            daemon.signal(signal)
            try exec.waitForRecords(index + 2)
        }
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit() == 0)
        let records = try exec.records()
        #expect(records.compactMap { $0["signal"] as? Int } == (signals + [SIGTERM]).map(Int.init))
        #expect(records.last?["last"] as? Bool == true)
        #expect(records.allSatisfy { $0["stream"] as? String == "stdout" })
    }

    @Test("a child killed by SIGKILL: log-sidecar exits 137, as a shell reports it")
    func killedChild() throws {
        let exec = ExecHarness()
        let child = exec.script(
            "child.py",
            """
            import os, time
            print('{"pid":%d}' % os.getpid(), flush=True)
            time.sleep(60)
            """)
        let daemon = try exec.start(["python3", child])
        try exec.waitForRecords(1)
        let pid = try #require(try exec.first("pid")?["pid"] as? Int)
        kill(pid_t(pid), SIGKILL)
        #expect(try daemon.waitForExit() == 137)
    }

    @Test("stdout stalled for 5 s: the child blocks in its write, nothing is lost, memory stays flat")
    func backpressure() throws {
        let directory = TestDirectory()
        let progress = directory.file("progress")
        directory.write(
            "child.py",
            """
            import sys
            line = '{"seq":%d,"pad":"' + 'x' * 200 + '"}\\n'
            for i in range(200000):
                sys.stdout.write(line % i)
                if i % 1000 == 999:
                    sys.stdout.flush()
                    with open(sys.argv[1], 'w') as f:
                        f.write(str(i + 1))
            sys.stdout.flush()
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary)
        process.arguments = ExecHarness.plain + ["--health-port", "0", "--", "python3", directory.file("child.py"), progress]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LOG_SIDECAR_") }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func written() -> Int { Int(directory.read("progress")) ?? 0 }
        // Nobody reads our stdout: the pipes fill, then the child stops.
        try waitUntil("the child to start writing") { written() > 0 }
        Thread.sleep(forTimeInterval: 1)
        let rssEarly = residentBytes(process.processIdentifier)
        let writtenEarly = written()
        Thread.sleep(forTimeInterval: 4)
        let rssLate = residentBytes(process.processIdentifier)
        #expect(written() == writtenEarly, "the child made progress while nothing was read")
        #expect(writtenEarly < 200_000)
        #expect(abs(rssLate - rssEarly) < 1 << 20, "RSS \(rssEarly) -> \(rssLate)")
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = String(decoding: data, as: UTF8.self)
        let sequence: [Int] = text.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "\"seq\":") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(sequence == Array(0..<200_000))
    }

    private func residentBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
        }
        return 0
    }

    @Test("restart on-failure: a child that fails twice then succeeds is started three times, 1 s then 2 s apart, and the counters say so")
    func restartOnFailure() throws {
        let exec = ExecHarness()
        let starts = exec.directory.file("starts")
        let child = exec.script(
            "child.py",
            """
            import sys, time
            with open(sys.argv[1], 'a') as f:
                f.write('%f\\n' % time.monotonic())
            n = len(open(sys.argv[1]).read().split())
            print('{"run":%d}' % n, flush=True)
            if n < 3:
                sys.exit(1)
            time.sleep(2)
            """)
        let port = HTTPClient.freePort()
        let daemon = try exec.start(["python3", child, starts], flags: ["--exec-restart", "on-failure"], healthPort: port)
        try waitUntil("the third start on /health", seconds: 20) {
            guard let body = HTTPClient.get(port: port, "/health")?.body,
                let health = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                let child = health["child"] as? [String: Any]
            else { return false }
            return child["starts"] as? Int == 3 && child["restarts"] as? Int == 2 && child["running"] as? Bool == true
                && child["last_exit_code"] as? Int == 1
        }
        #expect(HTTPClient.get(port: port, "/readyz")?.status == 200)
        #expect(HTTPClient.get(port: port, "/health")?.body.contains("\"watch\":\"none\"") == true, "no file is followed")
        let metrics = HTTPClient.get(port: port, "/metrics")?.body ?? ""
        #expect(metrics.contains("log_sidecar_child_restarts_total 2\n"))
        #expect(metrics.contains("log_sidecar_child_running 1\n"))
        #expect(try daemon.waitForExit() == 0)
        let times = exec.directory.read("starts").split(separator: "\n").compactMap { Double($0) }
        try #require(times.count == 3)
        #expect(times[1] - times[0] >= 0.95)
        #expect(times[2] - times[1] >= 1.95)
        #expect(try exec.records().compactMap { $0["run"] as? Int } == [1, 2, 3])
    }

    @Test("restart always: SIGTERM while the child waits out its backoff stops at once with its last status")
    func stopDuringBackoff() throws {
        let exec = ExecHarness()
        let child = exec.script("child.py", "import sys\nprint('{\"ran\":true}', flush=True)\nsys.exit(4)\n")
        let daemon = try exec.start(["python3", child], flags: ["--exec-restart", "always"])
        try exec.waitForRecords(1)
        try waitUntil("the child to exit") { daemon.stderr.contains("starting it again") }
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit(seconds: 5) == 4)
    }

    @Test("a grandchild orphaned by the child is ours (subreaper) and is reaped: no zombie left in /proc")
    func orphanReaped() throws {
        let exec = ExecHarness()
        let child = exec.script(
            "child.py",
            """
            import os, time
            r = os.fork()
            if r == 0:
                g = os.fork()
                if g == 0:
                    time.sleep(1.5)
                    os._exit(0)
                print('{"grandchild":%d}' % g, flush=True)
                os._exit(0)
            os.waitpid(r, 0)
            time.sleep(5)
            """)
        let daemon = try exec.start(["python3", child])
        try exec.waitForRecords(1)
        let grandchild = try #require(try exec.first("grandchild")?["grandchild"] as? Int)
        let status = (try? String(contentsOfFile: "/proc/\(grandchild)/status", encoding: .utf8)) ?? ""
        #expect(status.contains("PPid:\t\(daemon.pid)\n"), "the orphan was given to log-sidecar")
        try waitUntil("the orphan to be reaped", seconds: 4) { !FileManager.default.fileExists(atPath: "/proc/\(grandchild)") }
        #expect(daemon.process.isRunning, "the child still runs")
        #expect(try daemon.waitForExit() == 0)
    }

    @Test("as PID 1 of its own PID namespace (a container's entrypoint): orphans are reaped, SIGTERM reaches the child, its status is ours")
    func pidOne() throws {
        let exec = ExecHarness()
        // The child orphans a grandchild that exits at once, waits until it is gone, then looks for
        // zombies in its namespace (it has its own /proc), and waits for SIGTERM.
        let child = exec.script(
            "child.py",
            """
            import os, signal, sys, time
            def stop(sig, frame):
                print('{"stopped":true}', flush=True)
                sys.exit(5)
            signal.signal(signal.SIGTERM, stop)
            if os.fork() == 0:
                if os.fork() == 0:
                    time.sleep(0.3)
                    os._exit(0)
                os._exit(0)
            os.wait()
            time.sleep(1.5)
            zombies = []
            for pid in os.listdir('/proc'):
                if pid.isdigit():
                    try:
                        stat = open('/proc/%s/stat' % pid).read()
                    except OSError:
                        continue
                    if stat.rsplit(')', 1)[1].split()[0] == 'Z':
                        zombies.append(int(pid))
            print('{"pid":%d,"parent":%d,"zombies":%d}' % (os.getpid(), os.getppid(), len(zombies)), flush=True)
            while True:
                time.sleep(0.05)
            """)
        let daemon = try DaemonProcess(
            arguments: ["--pid", "--fork", "--mount-proc", DaemonProcess.binary] + ExecHarness.plain + [
                "--health-port", "0", "--", "python3", child,
            ],
            stdoutPath: exec.output, executable: "/usr/bin/unshare")
        try exec.waitForRecords(1, seconds: 20)
        let report = try #require(try exec.first("zombies"))
        #expect(report["parent"] as? Int == 1, "log-sidecar is PID 1")
        #expect(report["zombies"] as? Int == 0)
        // unshare does not pass signals on: SIGTERM goes to log-sidecar, its child in the host's view.
        let children = try String(contentsOfFile: "/proc/\(daemon.pid)/task/\(daemon.pid)/children", encoding: .utf8)
        let sidecar = try #require(children.split(separator: " ").first.flatMap { Int32($0) })
        kill(sidecar, SIGTERM)
        #expect(try daemon.waitForExit() == 5)
        #expect(try exec.records().last?["stopped"] as? Bool == true)
    }

    @Test(
        "the sinks are flushed when the child has exited: the file sink's fsync is seen, and when it fails with EIO the exit is 1, not the child's 0",
        .enabled(if: getuid() == 0, "needs root for a FUSE mount"))
    func flushedAtExit() throws {
        let exec = ExecHarness()
        let disk = try DurabilityTests.FailingDisk(exec.directory)
        defer { withExtendedLifetime(disk) {} }
        let child = exec.script("child.py", "for i in range(100):\n    print('{\"seq\":%d}' % i)\n")
        let shipped = disk.mountpoint + "/app.jsonl"
        let daemon = try exec.start(["python3", child], flags: ["--sinks", "file:" + shipped])
        #expect(try daemon.waitForExit() == 0)
        #expect(disk.operations.contains("fsync /app.jsonl"), "\(disk.operations.suffix(3))")
        #expect(Output.sequenceNumbers(shipped) == Array(0..<100))
        disk.failFsync(true)
        let failing = try DaemonProcess(
            arguments: ExecHarness.plain + ["--health-port", "0", "--sinks", "file:" + shipped, "--", "python3", child],
            stdoutPath: exec.directory.file("second.out"))
        #expect(try failing.waitForExit() == 1)
        #expect(failing.stderr.contains("Input/output error"), "\(failing.stderr)")
    }

    @Test(
        "a sink failing (disk full) when the child exits: the drain deadline starts at the exit, not when the loop notices, so log-sidecar stops and says what was lost",
        .enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
    func failingSinkAtExit() throws {
        let exec = ExecHarness()
        let volume = try SmallVolume(in: exec.directory, megabytes: 1)
        // 1.5 MB: the first MiB fills the disk, the rest waits in the pipe, and the child exits.
        let child = exec.script(
            "child.py", "import sys\nfor i in range(7000):\n    sys.stdout.write('{\"seq\":%d,\"pad\":\"%s\"}\\n' % (i, 'x' * 200))\n")
        let started = Date()
        let daemon = try exec.start(
            ["python3", child], flags: ["--sinks", "file:" + volume.path + "/app.jsonl", "--shutdown-drain-timeout-ms", "1000"])
        #expect(try daemon.waitForExit(seconds: 20) == 0, "the child's status")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(daemon.stderr.contains("it is lost"), "\(daemon.stderr.suffix(600))")
    }

    @Test("a command that does not exist exits 127, one that cannot be executed 126, each with a clear message")
    func commandErrors() throws {
        let missing = try DaemonProcess.run(["--health-port", "0", "--", "/nonexistent/app", "--flag"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("/nonexistent/app: command not found"))
        let notInPath = try DaemonProcess.run(["--health-port", "0", "--", "no-such-command-anywhere"])
        #expect(notInPath.status == 127)
        let directory = TestDirectory()
        directory.write("data.txt", "not a program\n")
        let notExecutable = try DaemonProcess.run(["--health-port", "0", "--", directory.file("data.txt")])
        #expect(notExecutable.status == 126)
        #expect(notExecutable.stderr.contains("cannot execute"))
    }

    @Test(
        "the child gets stdin, the environment and the descriptors we were given (a socket-activation fd), and none of ours (health socket, epoll, files)"
    )
    func inheritance() throws {
        let exec = ExecHarness()
        exec.directory.write("passed.txt", "given to log-sidecar on fd 9\n")
        // log-sidecar started with exactly 0-2 and fd 9, as systemd passes a socket: Foundation's
        // Process would otherwise hand it a descriptor of its own.
        let launcher = exec.script(
            "launch.py",
            """
            import os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY)
            os.dup2(fd, 9)
            os.set_inheritable(9, True)
            os.closerange(3, 9)
            os.closerange(10, 65536)
            os.execv(sys.argv[2], sys.argv[2:])
            """)
        let child = exec.script(
            "child.py",
            """
            import os, json
            fds = {}
            for name in os.listdir('/proc/self/fd'):
                try:
                    fds[name] = os.readlink('/proc/self/fd/' + name)
                except OSError:
                    pass
            print(json.dumps({"fds": fds, "env": os.environ.get("APP_SETTING")}), flush=True)
            """)
        let daemon = try DaemonProcess(
            arguments: [exec.directory.file("passed.txt"), DaemonProcess.binary] + ExecHarness.plain
                + [
                    "--health-port", String(HTTPClient.freePort()), "--sinks", "stdout,file:" + exec.directory.file("copy.jsonl"), "--", "python3",
                    child,
                ],
            stdoutPath: exec.output, environment: ["APP_SETTING": "kept"], executable: "/usr/bin/python3", prefix: [launcher])
        #expect(try daemon.waitForExit() == 0)
        let record = try #require(try exec.first("fds"))
        #expect(record["env"] as? String == "kept")
        let fds = try #require(record["fds"] as? [String: String])
        #expect(fds["0"] == "/dev/null", "stdin is ours")
        #expect(fds["1"]?.hasPrefix("pipe:") == true && fds["2"]?.hasPrefix("pipe:") == true)
        #expect(fds["9"] == exec.directory.file("passed.txt"))
        let others = fds.filter { !["0", "1", "2", "9"].contains($0.key) }
        #expect(others.isEmpty, "descriptors the child should not have: \(others)")
    }

    @Test("a descendant that keeps the pipes open: the drain stops at shutdown.drain_timeout_ms, with what was written shipped")
    func drainBounded() throws {
        let exec = ExecHarness()
        let started = Date()
        // Popen closes every descriptor but 0-2: the sleeper holds our pipes, not the test's own
        // (Foundation's Process watches for the end of log-sidecar through one that a child inherits).
        let child = exec.script(
            "child.py",
            """
            import subprocess, sys
            subprocess.Popen(['sleep', '30'])
            print('{"hello":1}', flush=True)
            sys.stdout.write('unfinished')
            """)
        let daemon = try exec.start(["python3", child], flags: ["--shutdown-drain-timeout-ms", "500"])
        #expect(try daemon.waitForExit(seconds: 10) == 0)
        #expect(Date().timeIntervalSince(started) < 5)
        let records = try exec.records()
        #expect(records.first?["hello"] as? Int == 1)
        #expect(records.last?["message"] as? String == "unfinished")
        #expect(records.last?["partial"] as? Bool == true)
    }

    @Test("a file input beside the child: both shipped, file records without stream; /readyz is 200 while the child runs, /health shows its pid")
    func filesBesideChild() throws {
        let exec = ExecHarness()
        let input = exec.directory.file("app.log")
        exec.directory.write("app.log", (0..<10).map { "{\"file_seq\":\($0)}\n" }.joined())
        let child = exec.script(
            "child.py",
            """
            import os, sys, time
            print('{"pid":%d}' % os.getpid(), flush=True)
            time.sleep(float(sys.argv[1]))
            """)
        let port = HTTPClient.freePort()
        let daemon = try exec.start(
            ["python3", child, "30"], flags: ["--input-path", input, "--input-checkpoint-path", exec.directory.file("cp.json")], healthPort: port)
        try exec.waitForRecords(11)
        #expect(HTTPClient.get(port: port, "/readyz")?.status == 200)
        let pid = try #require(try exec.first("pid")?["pid"] as? Int)
        let health = HTTPClient.get(port: port, "/health")?.body ?? ""
        #expect(health.contains("\"pid\":\(pid)"))
        let records = try exec.records()
        #expect(records.filter { $0["file_seq"] != nil }.allSatisfy { $0["stream"] == nil })
        #expect(records.filter { $0["pid"] != nil }.allSatisfy { $0["stream"] as? String == "stdout" })
        kill(pid_t(pid), SIGTERM)
        #expect(try daemon.waitForExit() == 128 + SIGTERM)
        #expect(FileManager.default.fileExists(atPath: exec.directory.file("cp.json")), "a named file keeps its checkpoint")
    }

    @Test("configuration: -- sets exec.command (shown by --check-config with no file followed), the environment sets it too, and bad settings exit 2")
    func configuration() throws {
        let shown = try DaemonProcess.run(["--check-config", "--", "/app/server", "--port", "8080"])
        #expect(shown.status == 0)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let exec = try #require(config["exec"] as? [String: Any])
        #expect(exec["command"] as? [String] == ["/app/server", "--port", "8080"])
        #expect(exec["restart"] as? String == "never")
        let input = try #require(config["input"] as? [String: Any])
        #expect(input["path"] == nil && input["paths"] == nil, "no file is followed unless named")
        #expect(input["checkpoint_path"] as? String == "")
        let fromEnvironment = try DaemonProcess.run(["--check-config"], environment: ["LOG_SIDECAR_EXEC_COMMAND": "/app/server,-v"])
        #expect(fromEnvironment.stdout.contains("\"/app/server\""))
        // A wrapped service's journald identifier without a config file (deploy/systemd/myapp-wrapped.service).
        let journald = try DaemonProcess.run(["--check-config", "--sinks", "journald:myapp", "--", "/app/server"])
        #expect(journald.stdout.contains("\"identifier\": \"myapp\""), "\(journald.stdout)")
        for (arguments, key) in [
            (["--"], "--"),
            (["--exec-restart", "sometimes", "--", "true"], "--exec-restart"),
            (["--enrich-fields", "stream=x", "--", "true"], "enrich.fields.stream"),
            (["--enrich-host-field", "stream", "--", "true"], "enrich.host_field"),
            (["--enrich-file-key", "stream", "--input-path", "/var/log/a.log", "--", "true"], "enrich.file_key"),
        ] {
            let result = try DaemonProcess.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(key), "\(arguments): \(result.stderr)")
        }
    }
}
