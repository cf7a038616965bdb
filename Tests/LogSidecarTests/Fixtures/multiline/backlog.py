"""A backlog of log4j-style lines with a Java trace every 50 records, and its check.

  backlog.py write PATH MIB   writes about MIB MiB and prints the number of records in it
  backlog.py check OUT COUNT  reads the shipped records (one JSON object a line) and prints a summary:
                              every record whole (each of its lines names the same record), in order,
                              none missing, none extra.
"""
import json
import re
import sys

FRAMES = 9


def record(n):
    if n % 50 != 49:
        return f"2026-12-02 10:00:00,000 INFO [worker-{n % 4}] request #{n}# served in {n % 997} ms\n"
    lines = [f"2026-12-02 10:00:00,000 ERROR [worker-{n % 4}] request #{n}# failed",
             f"java.lang.IllegalStateException: request #{n}# has no session"]
    lines += [f"\tat com.example.shop.Handler{i}.handle(Handler.java:{i + 10}) #{n}#" for i in range(FRAMES)]
    lines += [f"Caused by: java.io.IOException: disk full #{n}#", f"\t... {FRAMES} more #{n}#"]
    return "\n".join(lines) + "\n"


def write(path, mib):
    limit = mib << 20
    written = 0
    n = 0
    with open(path, "w", buffering=1 << 20) as out:
        while written < limit:
            chunk = "".join(record(n + i) for i in range(1000))
            out.write(chunk)
            written += len(chunk)
            n += 1000
    print(n)


TOKEN = re.compile(r"#(\d+)#")


def check(path, count):
    expected = 0
    bad = []
    with open(path, "rb") as shipped:
        for raw in shipped:
            message = json.loads(raw)["message"]
            lines = message.split("\n")
            ids = [TOKEN.search(line) for line in lines]
            whole = all(ids) and len({m.group(1) for m in ids}) == 1
            n = int(ids[0].group(1)) if ids[0] else -1
            if not whole or n != expected or message + "\n" != record(n):
                if len(bad) < 5:
                    bad.append({"at": expected, "message": message[:300]})
            expected = n + 1 if n >= 0 else expected + 1
            if n < 0:
                continue
    print(json.dumps({"records": expected, "bad": bad, "complete": expected == count}))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]))
    else:
        check(sys.argv[2], int(sys.argv[3]))
