"""Logs through the logging module with exceptions every way CPython prints them (logging.exception,
an exception raised from another, one raised while handling another, an ExceptionGroup, 3.11's ^^^
markers). Every record goes to the log file (argument 1) as CPython prints it and, as a JSON array of
strings, to the expectations file (argument 2). An uncaught exception's traceback is not among them:
after an ordinary log line it reads as that line's traceback, which is what the preset joins."""
import json
import logging
import sys

log_path, expected_path = sys.argv[1], sys.argv[2]
out = open(log_path, "a", encoding="utf-8")
expected = []


def record(text):
    out.write(text + "\n")
    out.flush()
    expected.append(text)


class Both(logging.Handler):
    def emit(self, entry):
        record(self.format(entry))


handler = Both()
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
logger = logging.getLogger("app.worker")
logger.addHandler(handler)
logger.setLevel(logging.INFO)


def settings(values):
    return values["timeout"] * int(values["retries"])


for round in range(3):
    for i in range(5):
        logger.info("job %d done", round * 5 + i)
    try:
        settings({"timeout": 3, "retries": "three"})
    except ValueError:
        logger.exception("round %d: bad settings", round)
    try:
        try:
            settings({})
        except KeyError as missing:
            raise RuntimeError("settings incomplete") from missing
    except RuntimeError:
        logger.exception("round %d: cannot start", round)
    try:
        try:
            1 / 0
        except ZeroDivisionError:
            raise OSError("cleanup failed")
    except OSError:
        logger.error("round %d: cleanup", round, exc_info=True)
    try:
        raise ExceptionGroup("several jobs failed", [ValueError("job 1"), TypeError("job 2")])
    except ExceptionGroup:
        logger.exception("round %d: batch", round)
    logger.warning("round %d over", round)


logger.info("all rounds over")
with open(expected_path, "w", encoding="utf-8") as f:
    json.dump(expected, f)
