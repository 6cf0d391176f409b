# Sluice's runtime client for python3.x zip functions (standard library only).
#
# Imports the handler `module.function` (from _HANDLER) from LAMBDA_TASK_ROOT and speaks the
# Lambda Runtime API at AWS_LAMBDA_RUNTIME_API: next -> handler -> response | error. Import
# failures go to /runtime/init/error and end the process, as on Lambda.
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"


def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(API)
    try:
        conn.request(method, BASE + path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
    finally:
        conn.close()


def error_doc(exc, error_type=None):
    tb = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(tb),
    }


def post_error(path, doc):
    body = json.dumps(doc).encode()
    headers = {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": doc["errorType"],
    }
    call("POST", path, body, headers)


def log_error(doc):
    lines = ["[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"])]
    if doc.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in doc["stackTrace"])
    print("\n".join(lines), file=sys.stderr, flush=True)


class LambdaContext:
    def __init__(self, headers):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0") or 0)
        cc = headers.get("lambda-runtime-client-context")
        self.client_context = json.loads(cc) if cc else None
        ci = headers.get("lambda-runtime-cognito-identity")
        self.identity = json.loads(ci) if ci else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def load_handler():
    spec = os.environ.get("_HANDLER", "")
    module_name, _, function_name = spec.rpartition(".")
    module_name = module_name.replace("/", ".")
    if not module_name or not function_name:
        return None, {
            "errorMessage": "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec,
            "errorType": "Runtime.MalformedHandlerName",
            "requestId": "",
            "stackTrace": [],
        }
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        return None, {
            "errorMessage": "Unable to import module '%s': %s" % (module_name, e),
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        }
    except Exception as e:  # the module raised while importing
        return None, error_doc(e, "Runtime.UserCodeSyntaxError" if isinstance(e, SyntaxError) else None)
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {
            "errorMessage": "Handler '%s' missing on module '%s'" % (function_name, module_name),
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }
    return handler, None


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    handler, init_error = load_handler()
    if init_error is not None:
        log_error(init_error)
        post_error("/init/error", init_error)
        sys.exit(1)
    while True:
        status, headers, body = call("GET", "/invocation/next")
        if status != 200:
            sys.exit(1)
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        trace = headers.get("lambda-runtime-trace-id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        try:
            event = json.loads(body) if body else None
            result = handler(event, LambdaContext(headers))
        except Exception as e:
            doc = error_doc(e)
            doc["requestId"] = request_id
            log_error(doc)
            post_error("/invocation/%s/error" % request_id, doc)
            continue
        try:
            out = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            doc = {
                "errorMessage": "Unable to marshal response: %s" % e,
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            }
            log_error(doc)
            post_error("/invocation/%s/error" % request_id, doc)
            continue
        call("POST", "/invocation/%s/response" % request_id, out, {"Content-Type": "application/json"})


main()
