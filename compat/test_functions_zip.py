"""Zip functions (issue #6): CreateFunction with a ZipFile runs the code (python3.x and
nodejs through Sluice's embedded runtime clients), UpdateFunctionCode and
UpdateFunctionConfiguration apply to the next invocation, and what CreateFunction
refuses. Driven by boto3 and the AWS CLI."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
import zipfile

from sluice_compat import ROLE_ARN, code_sha256, expect_client_error, unique_name


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buf.getvalue()


PY_V1 = """
import os

def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("failed on purpose")
    return {"version": "v1", "got": event, "stage": os.environ.get("STAGE"),
            "request_id": context.aws_request_id}
"""

PY_V2 = """
def handler(event, context):
    return {"version": "v2"}
"""


def invoke(lam, name, event, **extra):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **extra)
    return resp, json.loads(resp["Payload"].read())


def test_python_zip_runs_and_reports_errors(lam):
    name = unique_name("zip-py")
    lam.create_function(
        FunctionName=name,
        Role=ROLE_ARN,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": PY_V1})},
        Environment={"Variables": {"STAGE": "test"}},
    )
    resp, body = invoke(lam, name, {"a": 1}, LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert body["version"] == "v1" and body["got"] == {"a": 1} and body["stage"] == "test"
    assert body["request_id"] == resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert "START RequestId" in base64.b64decode(resp["LogResult"]).decode()

    resp, body = invoke(lam, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == "failed on purpose"
    assert any("app.py" in line for line in body["stackTrace"])
    lam.delete_function(FunctionName=name)


def test_node_zip_runs(lam):
    name = unique_name("zip-node")
    code = "exports.handler = async (event, context) => ({ doubled: event.n * 2, name: context.functionName });\n"
    lam.create_function(
        FunctionName=name,
        Role=ROLE_ARN,
        Runtime="nodejs20.x",
        Handler="index.handler",
        Code={"ZipFile": zip_of({"index.js": code})},
    )
    resp, body = invoke(lam, name, {"n": 21})
    assert "FunctionError" not in resp
    assert body == {"doubled": 42, "name": name}
    lam.delete_function(FunctionName=name)


def test_cli_update_function_code_and_boto3_update_configuration(lam, aws_cli, tmp_path):
    name = unique_name("zip-upd")
    created = lam.create_function(
        FunctionName=name,
        Role=ROLE_ARN,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": PY_V1})},
    )
    assert invoke(lam, name, {})[1]["version"] == "v1"

    archive = tmp_path / "v2.zip"
    archive.write_bytes(zip_of({"app.py": PY_V2}))
    result = aws_cli("update-function-code", "--function-name", name, "--zip-file", f"fileb://{archive}")
    assert result.returncode == 0, result
    updated = result.json
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["CodeSize"] == archive.stat().st_size
    assert updated["RevisionId"] != created["RevisionId"]
    assert invoke(lam, name, {})[1] == {"version": "v2"}

    stale = aws_cli(
        "update-function-code", "--function-name", name, "--zip-file", f"fileb://{archive}",
        "--revision-id", created["RevisionId"],
    )
    assert stale.returncode == 255
    assert "An error occurred (PreconditionFailedException) when calling the UpdateFunctionCode operation" in stale.stderr

    cfg = lam.update_function_configuration(
        FunctionName=name, Timeout=10, MemorySize=256, Environment={"Variables": {"K": "v"}},
        RevisionId=updated["RevisionId"],
    )
    assert cfg["Timeout"] == 10 and cfg["MemorySize"] == 256
    assert cfg["Environment"] == {"Variables": {"K": "v"}}
    expect_client_error(
        lambda: lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=updated["RevisionId"]),
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    assert lam.get_function_configuration(FunctionName=name)["Timeout"] == 10
    expect_client_error(
        lambda: lam.update_function_configuration(FunctionName=name, Timeout=901),
        "InvalidParameterValueException",
        400,
        "Value 901 for parameter Timeout is invalid. The maximum value is 900 seconds.",
    )
    lam.delete_function(FunctionName=name)


def test_create_function_refuses_unsafe_or_unrunnable_packages(lam):
    slip = bytearray(zip_of({"xx/evil.py": "x = 1\n"}))
    slip = bytes(slip).replace(b"xx/evil.py", b"../evil.py")
    cases = [
        ("python3.12", "app.handler", slip,
         "Could not unzip uploaded file. Please check your file, then try to upload again. "
         "Sluice refuses the entry '../evil.py': its path leaves the function's folder."),
        ("python3.12", "app.handler", b"PK\x03\x04 not a zip",
         "Could not unzip uploaded file. Please check your file, then try to upload again."),
        ("ruby3.3", "app.handler", zip_of({"app.rb": ""}),
         "The runtime parameter of ruby3.3 is not supported by Sluice for creating or updating functions. "
         "Supported runtimes: provided.al2023, provided.al2, provided, python3.9 to python3.14, nodejs18.x to nodejs24.x."),
    ]
    for runtime, handler, code, message in cases:
        name = unique_name("zip-bad")
        expect_client_error(
            lambda: lam.create_function(
                FunctionName=name, Role=ROLE_ARN, Runtime=runtime, Handler=handler, Code={"ZipFile": code}
            ),
            "InvalidParameterValueException",
            400,
            message,
        )
        expect_client_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)


def test_cli_publish_version_create_alias_and_invoke_with_qualifier(lam, aws_cli, tmp_path):
    name = unique_name("zip-ver")
    lam.create_function(
        FunctionName=name, Role=ROLE_ARN, Runtime="python3.12", Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": PY_V1})},
    )
    published = aws_cli("publish-version", "--function-name", name, "--description", "first")
    assert published.returncode == 0, published
    assert published.json["Version"] == "1"
    assert published.json["FunctionArn"].endswith(f":function:{name}:1")

    archive = tmp_path / "v2.zip"
    archive.write_bytes(zip_of({"app.py": PY_V2}))
    updated = aws_cli("update-function-code", "--function-name", name, "--zip-file", f"fileb://{archive}", "--publish")
    assert updated.returncode == 0, updated
    assert updated.json["Version"] == "2"

    alias = aws_cli("create-alias", "--function-name", name, "--name", "live", "--function-version", "1")
    assert alias.returncode == 0, alias
    assert alias.json["AliasArn"].endswith(f":function:{name}:live")
    dup = aws_cli("create-alias", "--function-name", name, "--name", "live", "--function-version", "2")
    assert dup.returncode == 255
    assert "An error occurred (ResourceConflictException) when calling the CreateAlias operation: Alias already exists:" in dup.stderr

    for qualifier, code, executed in (("1", "v1", "1"), ("live", "v1", "1"), ("2", "v2", "2"), (None, "v2", "$LATEST")):
        extra = {"Qualifier": qualifier} if qualifier else {}
        resp, body = invoke(lam, name, {}, **extra)
        assert body["version"] == code, (qualifier, body)
        assert resp["ExecutedVersion"] == executed

    expect_client_error(
        lambda: lam.invoke(FunctionName=name, Qualifier="9", Payload=b"{}"),
        "ResourceNotFoundException",
        404,
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:9",
    )
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    listed = [
        (f["FunctionName"], f["Version"])
        for page in lam.get_paginator("list_functions").paginate(
            FunctionVersion="ALL", PaginationConfig={"PageSize": 1}
        )
        for f in page["Functions"]
        if f["FunctionName"] == name
    ]
    assert listed == [(name, "$LATEST"), (name, "1"), (name, "2")]
    plain = [
        f["Version"]
        for page in lam.get_paginator("list_functions").paginate()
        for f in page["Functions"]
        if f["FunctionName"] == name
    ]
    assert plain == ["$LATEST"]
    for qualifier in ("1", "2"):
        got = lam.get_function(FunctionName=name, Qualifier=qualifier)
        assert got["Configuration"]["Version"] == qualifier
        with urllib.request.urlopen(got["Code"]["Location"]) as resp:
            code = resp.read()
        assert code_sha256(code) == got["Configuration"]["CodeSha256"]
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert invoke(lam, name, {}, Qualifier="live")[1]["version"] == "v2"
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    lam.delete_function(FunctionName=name)
    expect_client_error(lambda: lam.get_alias(FunctionName=name, Name="live"), "ResourceNotFoundException", 404)
