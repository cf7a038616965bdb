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
exist yet), "while_file" (the file exists), and answers "status" with "headers" and "body" ("rejects": true: a 2xx that stored nothing),
or "reset": true (closes without answering); "retry_after_date_in": N adds `Retry-After` as the HTTP date N
seconds after the answer. "port" listens there (a receiver that comes up where a sink already points).

"protocol" makes it one receiver in particular, checked from that project's documentation:
- "otlp" (OTLP/HTTP JSON, opentelemetry-proto's specification): POST /v1/logs, application/json, the body
  parsed with the official schema (google.protobuf.json_format.Parse into ExportLogsServiceRequest,
  ignore_unknown_fields=False) after OTLP's one deviation from proto3 JSON (trace and span ids as hex,
  checked for length and digits). Each accepted log record is written as {"resource": …, "record": …}
  (MessageToDict, enums as numbers, ids back in hex).
- "loki" (Loki's push API): POST /loki/api/v1/push, application/json, {"streams": [{"stream": {labels},
  "values": [["<ns>", "<line>"], …]}]} and nothing else; label names [a-zA-Z_][a-zA-Z0-9_]*, unique,
  values strings, at least one label, timestamps decimal strings. Accepted: {"labels", "ts", "line"}.
- "elasticsearch" (the _bulk API): POST /_bulk, application/x-ndjson, action and source lines in pairs,
  ending in a newline; the action {"create": {"_index", "_id"}} with a valid index name. Items are
  answered one by one: an _id already stored gets 409, "item_rules" ({"contains", "status", "times"})
  answer matching items with another status (the first "times" times), the rest 201. Stored sources go to
  accepted.jsonl, every item's {"id", "status", "index"} to items.jsonl.
"""
import base64
import email.utils
import gzip
import http.server
import re
import json
import os
import ssl
import sys
import threading
import time

directory, script = sys.argv[1], json.loads(sys.argv[2])
lock = threading.Lock()
count = 0
protocol = script.get("protocol", "ndjson")
stored_ids = set()
item_uses = {}
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
INDEX_BAD = re.compile(r'[A-Z\\/*?"<>|, #:]')
PATHS = {"otlp": "/v1/logs", "loki": "/loki/api/v1/push", "elasticsearch": "/_bulk"}
TYPES = {"otlp": "application/json", "loki": "application/json"}


def unique_object(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)


def otlp_records(text, problems, binary=None):
    """The log records of an OTLP/HTTP body (JSON, or protobuf when `binary` is given), or [] with the
    problems found."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    if binary is not None:
        message = logs_service_pb2.ExportLogsServiceRequest()
        try:
            message.ParseFromString(binary)
        except DecodeError as error:
            problems.append("ExportLogsServiceRequest (protobuf): %s" % error)
            return []
        # Re-encoded by protobuf itself, the message must give the same bytes: no unknown field, nothing
        # encoded other than canonically (field order, minimal varints).
        if message.SerializeToString(deterministic=True) != binary:
            problems.append("the protobuf body is not ExportLogsServiceRequest's canonical encoding")
            return []
        return otlp_dump(message)
    try:
        document = json.loads(text, object_pairs_hook=unique_object)
    except ValueError as error:
        problems.append("not JSON: %s" % error)
        return []
    for resource_logs in document.get("resourceLogs", []) if isinstance(document, dict) else []:
        for scope_logs in resource_logs.get("scopeLogs", []):
            for record in scope_logs.get("logRecords", []):
                for name, size in (("traceId", 16), ("spanId", 8)):
                    if name in record:
                        value = record[name]
                        if not isinstance(value, str) or not re.fullmatch("[0-9a-f]{%d}" % (2 * size), value):
                            problems.append("%s %r is not %d bytes of lower-case hex" % (name, value, size))
                            return []
                        record[name] = base64.b64encode(bytes.fromhex(value)).decode()
    try:
        message = json_format.Parse(json.dumps(document), logs_service_pb2.ExportLogsServiceRequest(), ignore_unknown_fields=False)
    except json_format.ParseError as error:
        problems.append("ExportLogsServiceRequest: %s" % error)
        return []
    return otlp_dump(message)


def otlp_dump(message):
    from google.protobuf import json_format
    out = []
    for resource_logs in message.resource_logs:
        resource = json_format.MessageToDict(resource_logs.resource, use_integers_for_enums=True)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                parsed = json_format.MessageToDict(record, use_integers_for_enums=True)
                for name in ("traceId", "spanId"):
                    if name in parsed:
                        parsed[name] = base64.b64decode(parsed[name]).hex()
                out.append(json.dumps({"resource": resource, "record": parsed}))
    return out


def partial_success(spec, content_type):
    """An ExportLogsServiceResponse with a partial success, in the request's encoding."""
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    response = logs_service_pb2.ExportLogsServiceResponse()
    response.partial_success.rejected_log_records = spec["rejected"]
    response.partial_success.error_message = spec["message"]
    if content_type == "application/x-protobuf":
        return response.SerializeToString()
    from google.protobuf import json_format
    return json_format.MessageToJson(response)


def loki_records(text, problems):
    try:
        document = json.loads(text, object_pairs_hook=unique_object)
    except ValueError as error:
        problems.append("not JSON: %s" % error)
        return []
    if not isinstance(document, dict) or set(document) != {"streams"} or not isinstance(document["streams"], list):
        problems.append("the body is not {\"streams\": [...]}")
        return []
    out = []
    for stream in document["streams"]:
        if not isinstance(stream, dict) or set(stream) != {"stream", "values"}:
            problems.append("a stream is not {\"stream\", \"values\"}: %r" % (stream if not isinstance(stream, dict) else sorted(stream)))
            return []
        labels, values = stream["stream"], stream["values"]
        if not isinstance(labels, dict) or not labels:
            problems.append("a stream without labels")
            return []
        for name, value in labels.items():
            if not LABEL.match(name) or not isinstance(value, str) or not value:
                problems.append("bad label %r=%r" % (name, value))
                return []
        if not isinstance(values, list) or not values:
            problems.append("a stream without values")
            return []
        for entry in values:
            if not isinstance(entry, list) or len(entry) not in (2, 3) or not isinstance(entry[0], str) \
                    or not entry[0].isdigit() or not isinstance(entry[1], str):
                problems.append("bad entry %r" % (entry,))
                return []
            out.append(json.dumps({"labels": labels, "ts": entry[0], "line": entry[1]}))
    return out


def bulk_records(text, problems):
    """The (index, id, source) of each create action of a _bulk body."""
    if not text.endswith("\n"):
        problems.append("a bulk body must end with a newline")
        return []
    lines = text.split("\n")[:-1]
    if len(lines) % 2:
        problems.append("an action without its source")
        return []
    out = []
    for action_text, source in zip(lines[0::2], lines[1::2]):
        try:
            action = json.loads(action_text, object_pairs_hook=unique_object)
            document = json.loads(source, object_pairs_hook=unique_object)
        except ValueError as error:
            problems.append("a bulk line is not JSON: %s" % error)
            return []
        if not isinstance(action, dict) or list(action) != ["create"] or not isinstance(action["create"], dict) \
                or set(action["create"]) != {"_index", "_id"}:
            problems.append("not a create action with _index and _id: %r" % action_text[:120])
            return []
        index, identifier = action["create"]["_index"], action["create"]["_id"]
        if not isinstance(index, str) or not index or INDEX_BAD.search(index) or index[0] in "-_+":
            problems.append("invalid index name %r" % index)
            return []
        if not isinstance(identifier, str) or not identifier or len(identifier.encode()) > 512:
            problems.append("invalid _id %r" % identifier)
            return []
        if not isinstance(document, dict):
            problems.append("a source is not a JSON object")
            return []
        out.append((index, identifier, source))
    return out


def bulk_answer(items):
    """Answers each item: 409 for a stored _id, an item rule's status, else stored with 201."""
    answers = []
    with lock:
        for index, identifier, source in items:
            status = 201
            for number, rule in enumerate(script.get("item_rules", [])):
                used = item_uses.get(number, 0)
                if rule["contains"] in source and used < rule.get("times", 1 << 30):
                    item_uses[number] = used + 1
                    status = rule["status"]
                    break
            if status == 201 and identifier in stored_ids:
                status = 409
            item = {"_index": index, "_id": identifier, "status": status}
            if status == 201:
                stored_ids.add(identifier)
                item.update({"_version": 1, "result": "created", "_seq_no": len(stored_ids), "_primary_term": 1})
                with open(os.path.join(directory, "accepted.jsonl"), "a") as accepted:
                    accepted.write(source + "\n")
            elif status == 409:
                item["error"] = {"type": "version_conflict_engine_exception",
                                 "reason": "[%s]: version conflict, document already exists (current version [1])" % identifier}
            elif status == 429:
                item["error"] = {"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}
            else:
                item["error"] = {"type": "mapper_parsing_exception", "reason": "failed to parse field [seq] of type [long]"}
            with open(os.path.join(directory, "items.jsonl"), "a") as log:
                log.write(json.dumps({"id": identifier, "status": status, "index": index}) + "\n")
            answers.append({"create": item})
    errors = any(answer["create"]["status"] >= 300 for answer in answers)
    return json.dumps({"took": 3, "errors": errors, "items": answers})


def matches(rule, number, records, size):
    if "request" in rule and rule["request"] != number:
        return False
    if "max_records" in rule and len(records) <= rule["max_records"]:
        return False
    if "max_bytes" in rule and size <= rule["max_bytes"]:
        return False
    if "contains" in rule and not any(rule["contains"] in record for record in records):
        return False
    if "while_file" in rule and not os.path.exists(rule["while_file"]):
        return False
    if "until_file" in rule and os.path.exists(rule["until_file"]):
        return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, Nagle holds the second for the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

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
        expected_type = script.get("content_type", TYPES.get(protocol, "application/x-ndjson"))
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
        if protocol in PATHS and self.path.split("?")[0] != PATHS[protocol]:
            problems.append("path %r, not %s" % (self.path, PATHS[protocol]))
        bulk = []
        if protocol == "otlp":
            binary = body if self.headers.get("Content-Type") == "application/x-protobuf" else None
            records = otlp_records(text, problems, binary)
        elif protocol == "loki":
            records = loki_records(text, problems)
        elif protocol == "elasticsearch":
            bulk = bulk_records(text, problems)
            records = [source for _, _, source in bulk]
        else:
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
                # "contains" looks at what the application wrote: Loki's lines, not their escaped form.
                texts = [json.loads(record)["line"] for record in records] if protocol == "loki" else records
                if matches(rule, number, texts, len(body)):
                    answer = rule
                    break
        entry = {"n": number, "t": time.monotonic(), "path": self.path, "records": len(records), "bytes": len(body),
                 "encoding": encoding, "headers": dict(self.headers), "problems": problems,
                 "status": 0 if answer.get("reset") else answer["status"], "first": records[0] if records else None}
        with lock:
            with open(os.path.join(directory, "requests.jsonl"), "a") as log:
                log.write(json.dumps(entry) + "\n")
            if protocol != "elasticsearch" and not answer.get("reset") and not answer.get("rejects") and 200 <= answer["status"] < 300:
                with open(os.path.join(directory, "accepted.jsonl"), "a") as accepted:
                    accepted.write("".join(record + "\n" for record in records))
        if answer.get("reset"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if "partial_success" in answer:
            answer = dict(answer, body=partial_success(answer["partial_success"], self.headers.get("Content-Type")))
        if protocol == "elasticsearch" and answer["status"] == 200 and "body" not in answer:
            answer = dict(answer, body=bulk_answer(bulk))
        if "retry_after_date_in" in answer:
            # RFC 9110's HTTP date, whole seconds, computed as the answer leaves.
            headers = dict(answer.get("headers", {}))
            headers["Retry-After"] = email.utils.formatdate(time.time() + answer["retry_after_date_in"], usegmt=True)
            answer = dict(answer, headers=headers)
        payload = answer.get("body", "")
        payload = payload if isinstance(payload, bytes) else payload.encode()
        self.send_response(answer["status"])
        for name, value in answer.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


server = http.server.ThreadingHTTPServer(("127.0.0.1", script.get("port", 0)), Handler)
if len(sys.argv) > 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(directory, "port.tmp"), "w") as port:
    port.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
