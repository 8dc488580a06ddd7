// The OpenAPI 3 description served at /openapi.json. docs/api.md is checked against it by a
// test (tests/e2e/server_docs_test.cpp), so a new route must be added here and there.
#include "server/server_state.hpp"

namespace ignite::server {
namespace {

constexpr const char* kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "Ignite",
    "description": "Run untrusted code in a sandbox and get its output with exact measurements. When the server has API keys, every route but /health and the web UI's files (/, /ui/…) needs `Authorization: Bearer <key>` (or `X-API-Key`). Errors are {\"error\":{\"code\",\"message\"}}; a program that fails is still 200 with success:false.",
    "version": "1"
  },
  "components": {
    "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
    "parameters": {
      "name": { "name": "name", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$" } },
      "stream": { "name": "stream", "in": "query", "required": false, "description": "1: Server-Sent Events (stdout/stderr chunks, then result or error); a client that disconnects cancels the run", "schema": { "type": "string", "enum": ["0", "1", "true"] } }
    },
    "schemas": {
      "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } },
      "Result": {
        "type": "object",
        "description": "The result document (CONTRACT §4)",
        "required": ["success", "status", "runtime", "output", "stdout", "stderr", "exitCode", "signal", "metrics", "limits"],
        "properties": {
          "success": { "type": "boolean" },
          "status": { "type": "string", "enum": ["ok", "runtime_error", "timeout", "memory_limit", "signaled", "syscall_blocked", "output_limit", "cancelled"] },
          "serviceName": { "type": "string" }, "runtime": { "type": "string" }, "isolation": { "type": "string" },
          "output": { "type": "string" }, "stdout": { "type": "string" }, "stderr": { "type": "string" },
          "stdoutEncoding": { "type": "string", "enum": ["base64"] }, "stderrEncoding": { "type": "string", "enum": ["base64"] },
          "stdoutTruncated": { "type": "boolean" }, "stderrTruncated": { "type": "boolean" },
          "exitCode": { "type": "integer", "nullable": true }, "signal": { "type": "string", "nullable": true },
          "metrics": { "type": "object", "properties": { "executionTimeMs": { "type": "number" }, "cpuTimeMs": { "type": "number" }, "memoryUsedMb": { "type": "number" }, "memoryPeakBytes": { "type": "integer" }, "pidsPeak": { "type": "integer" }, "coldStart": { "type": "boolean" }, "setupMs": { "type": "number" } } },
          "limits": { "type": "object", "properties": { "memoryMb": { "type": "integer" }, "timeoutMs": { "type": "integer" }, "cpuLimit": { "type": "number" }, "network": { "type": "boolean" } } },
          "preflight": { "type": "object" }, "compile": { "type": "object" }, "install": { "type": "object" }
        }
      },
      "ServiceExecute": { "type": "object", "properties": { "input": { "description": "any JSON; the program reads it from IGNITE_INPUT" }, "skipPreflight": { "type": "boolean" } } },
      "Adhoc": {
        "type": "object", "required": ["runtime"],
        "properties": {
          "runtime": { "type": "string", "description": "bun, node, deno, quickjs, python, go, or javascript, typescript; RT@VER allowed" },
          "version": { "type": "string", "description": "version prefix, e.g. \"3\"" },
          "code": { "type": "string" },
          "files": { "type": "array", "items": { "type": "object", "required": ["content"], "properties": { "name": { "type": "string" }, "content": { "type": "string" } } } },
          "stdin": { "type": "string" }, "input": { "description": "any JSON, as IGNITE_INPUT" },
          "args": { "type": "array", "items": { "type": "string" } },
          "memoryMb": { "type": "integer" }, "timeoutMs": { "type": "integer" },
          "isolation": { "type": "string", "enum": ["native", "docker", "microvm"], "description": "the backend; default: the server's --isolation" },
          "profile": { "type": "string", "description": "a runtime profile: datascience (python: numpy, pandas, matplotlib)" },
          "idempotencyKey": { "type": "string", "description": "POST /v1/jobs only" }
        }
      },
      "Service": { "type": "object", "properties": { "name": { "type": "string" }, "runtime": { "type": "string" }, "entry": { "type": "string" }, "memoryMb": { "type": "integer" }, "timeoutMs": { "type": "integer" } } },
      "PistonExecute": { "type": "object", "required": ["language", "files"], "properties": { "language": { "type": "string" }, "version": { "type": "string" }, "files": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "content": { "type": "string" } } } }, "stdin": { "type": "string" }, "args": { "type": "array", "items": { "type": "string" } }, "run_timeout": { "type": "integer" }, "run_memory_limit": { "type": "integer" } } }
    },
    "responses": {
      "BadRequest": { "description": "malformed JSON, JSON nested deeper than 128 levels, a field of the wrong type, or malformed HTTP framing", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Unauthorized": { "description": "missing or wrong API key", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "NotFound": { "description": "unknown service or job", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "TooLarge": { "description": "body larger than the limit (1 MiB by default)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Unprocessable": { "description": "valid JSON, invalid request (unknown runtime, limits out of range, preflight failed)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "TooMany": { "description": "rate limit or execution queue full; see Retry-After", "headers": { "Retry-After": { "schema": { "type": "integer" } } }, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Draining": { "description": "shutting down", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Result": { "description": "the run's result document (also when the program failed)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Result" } }, "text/event-stream": { "schema": { "type": "string" } } } }
    }
  },
  "security": [ { "bearer": [] } ],
  "paths": {
    "/health": { "get": { "summary": "Liveness and drain state (no auth)", "security": [], "responses": { "200": { "description": "{status: ok, version, uptimeS}" }, "503": { "description": "{status: draining}" } } } },
    "/services": { "get": { "summary": "Services with a valid service.yaml, and the directories that cannot be served", "responses": { "200": { "description": "{services: [Service], invalid: [{directory, name?, error}]}" }, "401": { "$ref": "#/components/responses/Unauthorized" } } } },
    "/services/{name}": { "get": { "summary": "A service's config and last run", "parameters": [ { "$ref": "#/components/parameters/name" } ], "responses": { "200": { "description": "Service + cpuLimit, network, dependencies, env (names only), lastRun" }, "400": { "$ref": "#/components/responses/BadRequest" }, "404": { "$ref": "#/components/responses/NotFound" }, "409": { "description": "two service directories declare this name (both named)" }, "422": { "description": "its service.yaml is invalid (the error names file, line and key)" } } } },
    "/services/{name}/preflight": { "get": { "summary": "Preflight checks", "parameters": [ { "$ref": "#/components/parameters/name" } ], "responses": { "200": { "description": "{serviceName, preflight: {overallStatus, checks}}" }, "404": { "$ref": "#/components/responses/NotFound" } } } },
    "/services/{name}/execute": { "post": { "summary": "Run a service", "parameters": [ { "$ref": "#/components/parameters/name" }, { "$ref": "#/components/parameters/stream" } ], "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ServiceExecute" } } } }, "responses": { "200": { "$ref": "#/components/responses/Result" }, "400": { "$ref": "#/components/responses/BadRequest" }, "401": { "$ref": "#/components/responses/Unauthorized" }, "404": { "$ref": "#/components/responses/NotFound" }, "413": { "$ref": "#/components/responses/TooLarge" }, "422": { "$ref": "#/components/responses/Unprocessable" }, "429": { "$ref": "#/components/responses/TooMany" }, "503": { "$ref": "#/components/responses/Draining" } } } },
    "/v1/execute": { "post": { "summary": "Run ad-hoc code", "parameters": [ { "$ref": "#/components/parameters/stream" } ], "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Adhoc" } } } }, "responses": { "200": { "$ref": "#/components/responses/Result" }, "400": { "$ref": "#/components/responses/BadRequest" }, "401": { "$ref": "#/components/responses/Unauthorized" }, "413": { "$ref": "#/components/responses/TooLarge" }, "422": { "$ref": "#/components/responses/Unprocessable" }, "429": { "$ref": "#/components/responses/TooMany" }, "503": { "$ref": "#/components/responses/Draining" } } } },
    "/v1/jobs": { "post": { "summary": "Queue ad-hoc code; poll /v1/jobs/{id}", "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Adhoc" } } } }, "responses": { "202": { "description": "{id, status: queued} (the earlier job for a repeated idempotencyKey)" }, "400": { "$ref": "#/components/responses/BadRequest" }, "422": { "$ref": "#/components/responses/Unprocessable" }, "429": { "$ref": "#/components/responses/TooMany" } } } },
    "/v1/jobs/{id}": { "get": { "summary": "A job's status and result (with API keys: only for the key that submitted it; any other key gets 404, as for an unknown id)", "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } ], "responses": { "200": { "description": "{id, status: queued|running|done|failed, result | error}" }, "404": { "$ref": "#/components/responses/NotFound" } } } },
    "/v1/runtimes": { "get": { "summary": "Installed runtimes", "responses": { "200": { "description": "{runtimes: [{name, version, label}]}" } } } },
    "/api/v2/runtimes": { "get": { "summary": "Piston: runtimes", "responses": { "200": { "description": "[{language, version, aliases, runtime}]" } } } },
    "/api/v2/execute": { "post": { "summary": "Piston: execute", "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PistonExecute" } } } }, "responses": { "200": { "description": "{language, version, run: {stdout, stderr, output, code, signal}, compile?}" }, "400": { "description": "{message}" }, "429": { "$ref": "#/components/responses/TooMany" } } } },
    "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text/plain; version=0.0.4" } } } },
    "/v1/pools": { "get": { "summary": "Warm pools: idle slots, demand, hits and misses per kind of run", "responses": { "200": { "description": "{pools:[{id, runtime, service, memoryMb, idle, starting, target, hits, misses, started, failed, shrunk, refillMs, demandPerS}], idleMemoryBytes, memoryBudgetBytes}" } } } },
    "/v1/runs": { "get": { "summary": "The last 100 runs this server finished, newest first: how each ended, never its input or output", "responses": { "200": { "description": "{runs:[{id, time, service, runtime, isolation, status, wallMs, cpuMs, memoryPeakBytes, coldStart}]}" } } } },
    "/ui/": { "get": { "summary": "The web UI (also /ui/app.js, /ui/app.css; GET / redirects here); no key needed: the files hold no data", "security": [], "responses": { "200": { "description": "text/html" }, "404": { "description": "ui_unavailable: built without the UI's assets" } } } },
    "/mcp": { "post": { "summary": "MCP (Model Context Protocol), Streamable HTTP, stateless: one JSON-RPC message in, its reply out (tools run_code, run_service, list_runtimes, list_services; docs/agents.md)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } }, "responses": { "200": { "description": "the JSON-RPC reply" }, "202": { "description": "a notification: nothing to reply" }, "400": { "description": "not JSON, or an unsupported MCP-Protocol-Version: a JSON-RPC error" }, "401": { "$ref": "#/components/responses/Unauthorized" }, "403": { "description": "an Origin that is neither this host nor loopback" } } } },
    "/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3" } } } }
  }
})json";

}  // namespace

const nlohmann::json& openapi_document() {
  static const nlohmann::json doc = [] {
    nlohmann::json d = nlohmann::json::parse(kDocument);
    d["info"]["version"] = IGNITE_VERSION;
    return d;
  }();
  return doc;
}

}  // namespace ignite::server
