// Drives Ignite's MCP server with the official MCP TypeScript SDK, as an agent host would, and
// prints one JSON line of what it saw (the e2e test asserts on it):
//   node drive.mjs stdio IGNITE_BIN [SERVICES_DIR]    spawns `ignite mcp` (one sandbox at a time)
//   node drive.mjs http URL [API_KEY]                 POST /mcp of a running `ignite serve`
//   node drive.mjs chart IGNITE_BIN                   pandas + matplotlib save a PNG to /out
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, extra] = process.argv.slice(2);
const transport =
  mode !== "http"
    ? new StdioClientTransport({
        command: target,
        args: ["mcp", "--pool", "none", "--concurrency", "1", ...(extra ? ["--services", extra] : [])],
        stderr: "inherit",
      })
    : new StreamableHTTPClientTransport(
        new URL(target),
        extra ? { requestInit: { headers: { Authorization: `Bearer ${extra}` } } } : {},
      );
const client = new Client({ name: "ignite-e2e", version: "1.0.0" });
await client.connect(transport);
const call = (name, args, options) => client.callTool({ name, arguments: args }, undefined, options);

// The width and height in a PNG's IHDR, or null when the bytes are not a PNG.
function pngSize(base64) {
  const b = Buffer.from(base64, "base64");
  if (b.length < 24 || b.toString("latin1", 1, 4) !== "PNG" || b.toString("latin1", 12, 16) !== "IHDR") return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}
const imagesOf = (result) =>
  (result.content ?? []).filter((c) => c.type === "image").map((c) => ({ mimeType: c.mimeType, ...pngSize(c.data) }));

if (mode === "chart") {
  const chart = await call("run_code", {
    runtime: "python",
    profile: "datascience",
    memoryMb: 512,
    timeoutMs: 60000,
    code: [
      "import pandas as pd, matplotlib.pyplot as plt",
      "df = pd.DataFrame({'month': ['Jan', 'Feb', 'Mar'], 'sales': [12, 15, 9]})",
      "fig, ax = plt.subplots(figsize=(4, 3), dpi=100)",
      "ax.bar(df.month, df.sales)",
      "fig.savefig('/out/chart.png')",
      "print(int(df.sales.sum()))",
    ].join("\n"),
  }, { timeout: 120000 });
  const out = {
    status: chart.structuredContent?.status ?? null,
    stdout: chart.structuredContent?.stdout ?? "",
    stderr: chart.structuredContent?.stderr ?? "",
    files: (chart.structuredContent?.files ?? []).map((f) => ({ path: f.path, mimeType: f.mimeType, size: f.size })),
    images: imagesOf(chart),
  };
  await client.close();
  console.log(JSON.stringify(out));
  process.exit(0);
}
const out = { server: client.getServerVersion(), instructions: client.getInstructions() ?? null };
out.tools = (await client.listTools()).tools.map((t) => t.name).sort();

const py = await call("run_code", {
  runtime: "python",
  code: "import sys, json, os\nprint(6 * 7)\nprint('to stderr', file=sys.stderr)\nprint(json.loads(os.environ['IGNITE_INPUT'])['n'])",
  input: { n: 5 },
});
out.py = { isError: py.isError ?? false, structured: py.structuredContent, text: py.content?.[0]?.text ?? "" };
// A PNG made by hand (7 x 5, no libraries) left in /out comes back as image content.
const png = await call("run_code", {
  runtime: "python",
  code: [
    "import struct, zlib",
    "def chunk(kind, data): return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))",
    "raw = b''.join(b'\\x00' + b'\\xff\\x00\\x00' * 7 for _ in range(5))",
    "png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 7, 5, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')",
    "open('/out/red.png', 'wb').write(png)",
    "open('/out/note.txt', 'w').write('a red square')",
  ].join("\n"),
});
out.png = {
  images: imagesOf(png),
  files: (png.structuredContent?.files ?? []).map((f) => ({ path: f.path, mimeType: f.mimeType, encoding: f.encoding })),
  text: png.content?.[0]?.text ?? "",
};
const bad = await call("run_code", { runtime: "cobol", code: "x" });
out.bad = { isError: bad.isError ?? false, text: bad.content?.[0]?.text ?? "" };
const bomb = await call("run_code", { runtime: "python", code: "x = bytearray(512 * 1024 * 1024)\nprint(len(x))", memoryMb: 64 });
out.bomb = bomb.structuredContent?.status ?? null;
out.runtimes = (await call("list_runtimes", {})).structuredContent.runtimes.map((r) => r.name);
out.services = (await call("list_services", {})).structuredContent.services.map((s) => s.name);
if (out.services.includes("data-processor")) {
  const dp = await call("run_service", { name: "data-processor", input: { data: [1, 2, 3, 4, 5], operation: "sum" } });
  out.service = { status: dp.structuredContent?.status ?? null, stdout: dp.structuredContent?.stdout ?? "" };
  const missing = await call("run_service", { name: "no-such-service" });
  out.missingService = { isError: missing.isError ?? false, text: missing.content?.[0]?.text ?? "" };
}
try {
  await call("no_such_tool", {});
  out.unknownTool = "answered";
} catch (e) {
  out.unknownTool = e.code ?? String(e);
}
if (mode === "stdio") {
  // The client gives up on a long run (notifications/cancelled). With one sandbox at a time,
  // the next run finishing soon proves the first one was stopped, not left to sleep.
  const abort = new AbortController();
  const started = Date.now();
  setTimeout(() => abort.abort(), 1500);
  try {
    await call("run_code", { runtime: "python", code: "import time\ntime.sleep(30)", timeoutMs: 60000 },
               { signal: abort.signal, timeout: 90000 });
    out.cancel = "finished";
  } catch {
    out.cancel = "aborted";
  }
  const after = await call("run_code", { runtime: "python", code: "print('after')" }, { timeout: 90000 });
  out.afterCancel = { stdout: after.structuredContent?.stdout ?? "", ms: Date.now() - started };
}
await client.ping();
out.ping = true;
await client.close();
console.log(JSON.stringify(out));
