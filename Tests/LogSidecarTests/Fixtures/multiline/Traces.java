// Logs through java.util.logging in a one-line format, with throwables nested every way
// Throwable.printStackTrace prints them (causes, suppressed, "... N more"), and ends with an uncaught
// exception in a thread. Every record goes to the log file (argument 1) as the JVM prints it, and,
// as a JSON array of strings, to the expectations file (argument 2).
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.logging.*;

public class Traces {
    static final List<String> expected = new ArrayList<>();
    static PrintStream log;

    static class AppError extends RuntimeException {
        AppError(String message, Throwable cause) { super(message, cause); }
    }

    static synchronized void record(String text) {
        log.print(text);
        log.flush();
        expected.add(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
    }

    static void parse(String value) { Integer.parseInt(value); }
    static void load(int depth) { if (depth == 0) parse("forty-two"); else load(depth - 1); }

    static RuntimeException nested() {
        try {
            load(5);
            return null;
        } catch (NumberFormatException e) {
            AppError wrapped = new AppError("loading the settings failed", e);
            IOException closing = new IOException("closing the file failed", new EOFException("unexpected end"));
            closing.addSuppressed(new IllegalStateException("already closed"));
            wrapped.addSuppressed(closing);
            return new RuntimeException("request 42 failed", wrapped);
        }
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %3$s %5$s%6$s%n");
        log = new PrintStream(new FileOutputStream(args[0], true), true, "UTF-8");
        SimpleFormatter formatter = new SimpleFormatter();
        Logger logger = Logger.getLogger("app.orders");
        logger.setUseParentHandlers(false);
        logger.addHandler(new Handler() {
            public void publish(LogRecord r) { record(formatter.format(r)); }
            public void flush() {}
            public void close() {}
        });
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 5; i++) logger.info("order " + (round * 5 + i) + " accepted");
            logger.log(Level.SEVERE, "round " + round + " failed", nested());
            logger.warning("retrying round " + round);
            logger.log(Level.WARNING, "a plain failure", new IllegalArgumentException("no cause here"));
        }
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
            StringWriter trace = new StringWriter();
            error.printStackTrace(new PrintWriter(trace));
            record("Exception in thread \"" + thread.getName() + "\" " + trace);
        });
        Thread worker = new Thread(() -> { throw new AppError("worker gave up", new ArithmeticException("/ by zero")); }, "worker-1");
        worker.start();
        worker.join();
        logger.info("done");
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < expected.size(); i++) {
            if (i > 0) json.append(',');
            json.append('"');
            for (char c : expected.get(i).toCharArray()) {
                if (c == '"' || c == '\\') json.append('\\').append(c);
                else if (c == '\n') json.append("\\n");
                else if (c == '\t') json.append("\\t");
                else if (c == '\r') json.append("\\r");
                else if (c < 0x20) json.append(String.format("\\u%04x", (int) c));
                else json.append(c);
            }
            json.append('"');
        }
        json.append(']');
        try (Writer out = new OutputStreamWriter(new FileOutputStream(args[1]), StandardCharsets.UTF_8)) { out.write(json.toString()); }
    }
}
