// Sluice's runtime client for nodejs zip functions (Node's standard library only).
//
// Loads the handler `file.export` (from _HANDLER) from LAMBDA_TASK_ROOT (.js, .mjs or .cjs;
// CommonJS or ES module) and speaks the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API:
// next -> handler -> response | error. Handlers are async (return a promise or a value) or
// take a callback as third argument. Load failures go to /runtime/init/error and end the
// process, as on Lambda.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const url = require("url");

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: Number(PORT), method, path: BASE + p, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDoc(err, type) {
  const e = err instanceof Error ? err : new Error(typeof err === "string" ? err : JSON.stringify(err));
  return {
    errorType: type || e.name || "Error",
    errorMessage: e.message,
    trace: (e.stack || "").split("\n"),
  };
}

async function postError(p, doc) {
  const body = JSON.stringify(doc);
  console.error(`${new Date().toISOString()}\tundefined\tERROR\t${doc.errorType}: ${doc.errorMessage}`);
  await call("POST", p, body, {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

async function loadHandler() {
  const spec = process.env._HANDLER || "";
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = spec.lastIndexOf(".");
  if (dot <= 0 || dot === spec.length - 1) {
    throw Object.assign(new Error(`Bad handler ${spec}`), { lambdaType: "Runtime.MalformedHandlerName" });
  }
  const file = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1).split(".");
  const base = path.resolve(root, file);
  const found = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!found) {
    throw Object.assign(new Error(`Cannot find module '${file}'`), { lambdaType: "Runtime.ImportModuleError" });
  }
  let mod;
  if (found.endsWith(".mjs")) {
    mod = await import(url.pathToFileURL(found).href);
  } else {
    try {
      mod = require(found);
    } catch (e) {
      if (e && e.code === "ERR_REQUIRE_ESM") {
        mod = await import(url.pathToFileURL(found).href);
      } else {
        throw e;
      }
    }
  }
  let handler = mod;
  for (const key of exportPath) handler = handler == null ? undefined : handler[key];
  if (typeof handler !== "function" && mod && mod.default) {
    handler = mod.default;
    for (const key of exportPath) handler = handler == null ? undefined : handler[key];
  }
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), { lambdaType: "Runtime.HandlerNotFound" });
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const cc = headers["lambda-runtime-client-context"];
  const ci = headers["lambda-runtime-cognito-identity"];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: ci ? JSON.parse(ci) : undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function run(handler, event, ctx) {
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const done = (err, result) => (err ? reject(err) : resolve(result));
      const r = handler(event, ctx, done);
      if (r && typeof r.then === "function") r.then(resolve, reject);
    });
  }
  return Promise.resolve().then(() => handler(event, ctx));
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    await postError("/init/error", errorDoc(e, e && e.lambdaType));
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    if (next.status !== 200) process.exit(1);
    const id = next.headers["lambda-runtime-aws-request-id"];
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    let result;
    try {
      const text = next.body.toString("utf8");
      const event = text ? JSON.parse(text) : undefined;
      result = await run(handler, event, context(next.headers));
    } catch (e) {
      await postError(`/invocation/${id}/error`, errorDoc(e));
      continue;
    }
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      await postError(`/invocation/${id}/error`, errorDoc(e, "Runtime.MarshalError"));
      continue;
    }
    await call("POST", `/invocation/${id}/response`, body, { "Content-Type": "application/json" });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
