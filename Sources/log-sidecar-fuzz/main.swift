#if FUZZING
    import CFuzzerDriver
    import Glibc

    // Fuzz/run.sh builds this with -sanitize=fuzzer and -DFUZZING: libFuzzer runs the target FUZZ_TARGET
    // names on its corpus, with its own flags.
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
#else
    import Glibc

    // Built without libFuzzer (an ordinary `swift build`), there is nothing to run.
    let message = "log-sidecar-fuzz: build it with Fuzz/run.sh (libFuzzer, -DFUZZING)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(2)
#endif
