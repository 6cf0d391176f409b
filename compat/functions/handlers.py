"""Handlers run by awslambdaric as Sluice `command` functions in the tests.

Each is started as ``python -m awslambdaric handlers.<name>`` with this folder as workdir.
"""

import base64
import json
import os
import sys
import time
import urllib.request


def report(doc):
    """POSTs `doc` to the test's recorder (env REPORT_URL), when there is one."""
    url = os.environ.get("REPORT_URL")
    if url:
        req = urllib.request.Request(url, data=json.dumps(doc).encode(), method="POST")
        req.add_header("content-type", "application/json")
        urllib.request.urlopen(req).read()


def kinesis_data(event):
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event.get("Records", [])]


def echo(event, context):
    """The event, what the context says, and the Lambda environment the process was given."""
    print(f"echo got {json.dumps(event)}")
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_context": getattr(context.client_context, "custom", None),
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_", "_HANDLER", "TZ", "GREETING"))},
    }


class BadInput(Exception):
    pass


def fail(event, context):
    """Raises: awslambdaric posts /error with errorType BadInput."""
    raise BadInput(f"bad input: {event.get('why', 'none')}")


def slow(event, context):
    """Sleeps event['seconds'] (a handler's own work, not a test wait), then answers its pid."""
    print("slow start", flush=True)
    time.sleep(float(event.get("seconds", 1)))
    return {"pid": os.getpid()}


def crash(event, context):
    """Exits the process mid-invocation."""
    print("about to crash", flush=True)
    sys.stderr.write("crashing now\n")
    sys.stderr.flush()
    os._exit(int(event.get("code", 3)))


def logs(event, context):
    """Prints event['lines'] lines to stdout and stderr."""
    for i in range(int(event.get("lines", 3))):
        stream = sys.stdout if i % 2 == 0 else sys.stderr
        print(f"line {i} of {context.aws_request_id}", file=stream, flush=True)
    return {"printed": int(event.get("lines", 3))}


def partial(event, context):
    """Kinesis batch: records whose data is 'fail' are reported in batchItemFailures."""
    report({"data": kinesis_data(event), "pid": os.getpid()})
    failures = []
    for r in event.get("Records", []):
        data = base64.b64decode(r["kinesis"]["data"]).decode()
        if data == "fail":
            failures.append({"itemIdentifier": r["kinesis"]["sequenceNumber"]})
    return {"batchItemFailures": failures}


def big(event, context):
    """A result larger than Lambda's 6 MB response limit."""
    return "x" * (7 * 1024 * 1024)


def pid(event, context):
    return {"pid": os.getpid()}


def crash_once(event, context):
    """Kinesis batch: the first attempt (no file at env MARKER yet) kills the process."""
    marker = os.environ["MARKER"]
    first = not os.path.exists(marker)
    report({"data": kinesis_data(event), "pid": os.getpid(), "crashing": first})
    if first:
        open(marker, "w").close()
        os._exit(7)
    return {}
