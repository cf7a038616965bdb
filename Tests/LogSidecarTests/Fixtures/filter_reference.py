#!/usr/bin/env python3
"""An independent implementation of the filters as docs/filters.md describes them, for the end-to-end tests.

  filter_reference.py generate SEED COUNT INPUT   writes COUNT varied lines (objects, nested fields,
                                                  escapes, non-ASCII text, numbers in several
                                                  spellings, lines that are not JSON)
  filter_reference.py check CONFIG INPUT OUTPUT   applies CONFIG's filters to INPUT and compares the
                                                  result with OUTPUT record by record, key order included

Numbers keep the text the line wrote (equals compares them by value, matches sees the text), so a
record that went through unchanged compares equal to its input's text.
"""
import json
import random
import re
import sys
from decimal import Decimal


class Num(str):
    """A JSON number as written; compared by value in `equals`."""


def parse(text):
    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=lambda c: 1 / 0)


def encode(value):
    if isinstance(value, Num):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + encode(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def record_of(line):
    try:
        value = parse(line)
    except (ValueError, ZeroDivisionError):
        value = None
    if isinstance(value, dict):
        return value
    return {"message": line, "parse_error": True}


def locate(obj, path):
    """(container, key) of the field at path: the whole text as a key first, then split at each dot."""
    if path in obj:
        return obj, path
    for i, ch in enumerate(path):
        if ch == "." and i > 0:
            head = path[:i]
            if head in obj and isinstance(obj[head], dict):
                found = locate(obj[head], path[i + 1:])
                if found:
                    return found
    return None


def equals(value, candidates):
    for c in candidates:
        if isinstance(c, str) and not isinstance(c, Num):
            if isinstance(value, str) and not isinstance(value, Num) and value == c:
                return True
        elif isinstance(c, Num):
            if isinstance(value, Num) and Decimal(value) == Decimal(c):
                return True
        elif isinstance(value, (bool, type(None))) and not isinstance(value, Num) and value is c:
            return True
    return False


def holds(cond, rec):
    found = locate(rec, cond["field"])
    if not found:
        return False
    value = found[0][found[1]]
    if "equals" in cond:
        return equals(value, cond["equals"])
    if isinstance(value, str):  # a Num is a str: its text
        return re.search(cond["matches"], value, re.ASCII) is not None
    return False


def redact_value(value, pattern, replacement, whole):
    if pattern is None and whole:
        return replacement
    if isinstance(value, Num):
        return value
    if isinstance(value, str):
        if pattern is None:
            return replacement
        return re.sub(pattern, lambda m: replacement, value, flags=re.ASCII)
    if isinstance(value, dict):
        return {k: redact_value(v, pattern, replacement, False) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, pattern, replacement, False) for v in value]
    return value


def create(rec, path, value):
    """Sets path in rec where it is missing: down existing objects, then new ones; past a value that is
    not an object the rest of the path is one dotted key."""
    obj, start = rec, 0
    while True:
        for i in range(start, len(path)):
            if path[i] != "." or i == start:
                continue
            head = path[start:i]
            if head in obj:
                if not isinstance(obj[head], dict):
                    obj[path[start:]] = value
                    return
                obj, start = obj[head], i + 1
                break
        else:
            break
    parts = path[start:].split(".")
    for part in reversed(parts[1:]):
        value = {part: value}
    obj[parts[0]] = value


class Chain:
    def __init__(self, filters):
        self.filters = filters
        self.seen = [0] * len(filters)

    def apply(self, rec):
        for index, f in enumerate(self.filters):
            kind = f["type"]
            if kind == "drop" and holds(f, rec):
                return None
            if kind == "keep" and not holds(f, rec):
                return None
            if kind == "remove":
                for path in f["fields"]:
                    found = locate(rec, path)
                    if found:
                        del found[0][found[1]]
            if kind == "rename":
                found = locate(rec, f["from"])
                if found:
                    value = found[0].pop(found[1])
                    target = locate(rec, f["to"])
                    if target:
                        target[0][target[1]] = value
                    else:
                        create(rec, f["to"], value)
            if kind == "redact":
                pattern, replacement = f.get("pattern"), f.get("replacement", "***")
                if "fields" in f:
                    for path in f["fields"]:
                        found = locate(rec, path)
                        if found:
                            found[0][found[1]] = redact_value(found[0][found[1]], pattern, replacement, True)
                else:
                    for key in list(rec):
                        rec[key] = redact_value(rec[key], pattern, replacement, False)
            if kind == "sample":
                if "unless" in f and holds(f["unless"], rec):
                    continue
                keep = self.seen[index] % int(f["rate"]) == 0
                self.seen[index] += 1
                if not keep:
                    return None
        return rec


def ordered(value):
    """Key order matters: a list of pairs all the way down."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def generate(seed, count, path):
    rng = random.Random(seed)
    levels = ["debug", "trace", "info", "warn", "error", "fatal", "DEBUG", "de\\u0062ug"]
    statuses = ["200", "201", "404", "500", "5e2", "500.0", "503", "\"500\"", "\"503\"", "null", "true"]
    names = ["john.doe", "élève", "\\u00e9l\\u00e8ve", "a\\\"b", "x+y", "李"]
    with open(path, "w", encoding="utf-8") as out:
        for seq in range(count):
            r = rng.random()
            if r < 0.03:
                out.write(rng.choice(["plain text line %d" % seq, "[1,2,%d]" % seq, "{broken %d" % seq, "\"str\""]) + "\n")
                continue
            fields = ['"seq":%d' % seq]
            if rng.random() < 0.9:
                fields.append('"level":"%s"' % rng.choice(levels))
            if rng.random() < 0.8:
                fields.append('"status":%s' % rng.choice(statuses))
            if rng.random() < 0.7:
                fields.append('"msg":"message %d with a tab\\t and %s"' % (seq, rng.choice(names)))
            if rng.random() < 0.5:
                fields.append('"password":"%s"' % rng.choice(["hunter2", "p@ss", "\\u0070w"]))
            if rng.random() < 0.6:
                fields.append('"email":"%s@example.%s"' % (rng.choice(names), rng.choice(["com", "org"])))
            if rng.random() < 0.5:
                headers = ['"host":"h%d"' % rng.randrange(3)]
                if rng.random() < 0.7:
                    headers.append('"authorization":"Bearer %d"' % seq)
                fields.append('"request":{"method":"%s","headers":{%s}}' % (rng.choice(["GET", "HEAD"]), ",".join(headers)))
            if rng.random() < 0.3:
                fields.append('"user":{"id":%d,"contacts":["%s@x.org",{"mail":"b@y.net"},7]}' % (seq, rng.choice(names)))
            if rng.random() < 0.2:
                fields.append('"message":"already here"')
            if rng.random() < 0.1:
                fields.append('"meta":%s' % rng.choice(['{"a":1}', '"text"', "{}"]))
            rng.shuffle(fields)
            out.write("{" + ", ".join(fields) + "}\n")


def check(config_path, input_path, output_path):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f, parse_int=Num, parse_float=Num)
    chain = Chain(config["filters"])
    expected = []
    with open(input_path, encoding="utf-8") as f:
        for line in f.read().split("\n")[:-1]:
            rec = chain.apply(record_of(line))
            if rec is not None:
                expected.append(rec)
    with open(output_path, encoding="utf-8") as f:
        actual = [parse(line) for line in f.read().split("\n")[:-1]]
    if len(actual) != len(expected):
        print("expected %d records, got %d" % (len(expected), len(actual)))
    for index, (want, got) in enumerate(zip(expected, actual)):
        if ordered(want) != ordered(got):
            print("record %d differs:\n  expected %s\n  got      %s" % (index, encode(want), encode(got)))
            return 1
    if len(actual) != len(expected):
        return 1
    print("ok %d records" % len(actual))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
