#!/usr/bin/env python3
"""A receiver that reads every request body and throws it away, answering as each backend answers
success: OTLP `{}`, Loki 204, Elasticsearch a bulk response without errors, anything else 200.
Usage: discard_http.py PORT_FILE   (writes the port it listens on)"""
import http.server
import os
import sys

ANSWERS = {"/v1/logs": (200, b"{}"), "/loki/api/v1/push": (204, b""), "/_bulk": (200, b'{"took":1,"errors":false,"items":[]}')}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, Nagle holds the second for the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        # Read into one buffer, not a new bytes object per read: the receiver shares the shipper's
        # cores, so what it spends per byte is taken from the formats with the larger bodies.
        buffer = memoryview(self.server.buffer)
        while left > 0:
            left -= self.rfile.readinto(buffer[:min(left, len(buffer))]) or left
        status, body = ANSWERS.get(self.path.split("?")[0], (200, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.buffer = bytearray(1 << 20)
with open(sys.argv[1] + ".tmp", "w") as port:
    port.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
