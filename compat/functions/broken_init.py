"""Fails while being imported: awslambdaric posts /runtime/init/error."""

raise RuntimeError("cannot start: missing configuration")


def handler(event, context):  # pragma: no cover - never reached
    return {}
