#!/usr/bin/env python3
"""A scripted HTTP receiver for the HTTP sink's tests: answers what a real receiver would not produce on
demand (413, 429 with Retry-After, a 200 with an error body, a reset connection, 401) and checks every
request as strictly as a real ndjson receiver: POST, a Content-Length, the declared Content-Type, gzip
only when declared, and a body of whole JSON objects, one per line.

Usage: scripted_http.py DIR SCRIPT_JSON [CERT KEY]
Writes DIR/port once listening, one JSON line per request to DIR/requests.jsonl, and the records of
every request it answered 2xx to DIR/accepted.jsonl. SCRIPT_JSON: {"content_type": ..., "rules": [...]},
the first matching rule answers; a rule matches on "request" (its 1-based number), "max_records" /
"max_bytes" (the body has more), "contains" (a record holds the text), "until_file" (the file does not
exist yet), and answers "status" with "headers" and "body" ("rejects": true: a 2xx that stored nothing),
or "reset": true (closes without answering).
"""
import gzip
import http.server
import json
import os
import ssl
import sys
import threading
import time

directory, script = sys.argv[1], json.loads(sys.argv[2])
lock = threading.Lock()
count = 0


def matches(rule, number, records, size):
    if "request" in rule and rule["request"] != number:
        return False
    if "max_records" in rule and len(records) <= rule["max_records"]:
        return False
    if "max_bytes" in rule and size <= rule["max_bytes"]:
        return False
    if "contains" in rule and not any(rule["contains"] in record for record in records):
        return False
    if "until_file" in rule and os.path.exists(rule["until_file"]):
        return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        global count
        problems = []
        length = self.headers.get("Content-Length")
        if length is None:
            problems.append("no Content-Length")
            raw = b""
        else:
            raw = self.rfile.read(int(length))
        expected_type = script.get("content_type", "application/x-ndjson")
        if self.headers.get("Content-Type") != expected_type:
            problems.append("Content-Type %r" % self.headers.get("Content-Type"))
        encoding = self.headers.get("Content-Encoding")
        body = raw
        if encoding == "gzip":
            try:
                body = gzip.decompress(raw)
            except OSError as error:
                problems.append("bad gzip: %s" % error)
        elif encoding is not None:
            problems.append("Content-Encoding %r" % encoding)
        elif raw[:2] == b"\x1f\x8b":
            problems.append("gzip body without Content-Encoding")
        text = body.decode("utf-8", "replace")
        if text and not text.endswith("\n"):
            problems.append("body does not end with a newline")
        records = text.split("\n")[:-1] if text else []
        for record in records:
            try:
                if not isinstance(json.loads(record), dict):
                    problems.append("a line is not a JSON object")
            except ValueError:
                problems.append("a line is not JSON: %r" % record[:80])
        with lock:
            count += 1
            number = count
        answer = {"status": 400, "body": "; ".join(problems)} if problems else {"status": 200}
        if not problems:
            for rule in script.get("rules", []):
                if matches(rule, number, records, len(body)):
                    answer = rule
                    break
        entry = {"n": number, "t": time.monotonic(), "path": self.path, "records": len(records), "bytes": len(body),
                 "encoding": encoding, "headers": dict(self.headers), "problems": problems,
                 "status": 0 if answer.get("reset") else answer["status"], "first": records[0] if records else None}
        with lock:
            with open(os.path.join(directory, "requests.jsonl"), "a") as log:
                log.write(json.dumps(entry) + "\n")
            if not answer.get("reset") and not answer.get("rejects") and 200 <= answer["status"] < 300:
                with open(os.path.join(directory, "accepted.jsonl"), "a") as accepted:
                    accepted.write("".join(record + "\n" for record in records))
        if answer.get("reset"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        payload = answer.get("body", "").encode()
        self.send_response(answer["status"])
        for name, value in answer.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(directory, "port.tmp"), "w") as port:
    port.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
