// The official TypeScript SDK client against the gateway, over any of its client transports.
//
// usage: node ts_client.mjs TRANSPORT TARGET STEPS_JSON
//   TRANSPORT: http (StreamableHTTPClientTransport), sse (SSEClientTransport),
//              ws (WebSocketClientTransport), stdio (StdioClientTransport)
//   TARGET:    the URL, or for stdio a JSON array [command, ...args]
//   STEPS_JSON: [{"list": true} | {"call": NAME, "args": {...}}, ...], run in order; a step
//              with "parallel": true starts without waiting (all are awaited at the end).
// env: MCP_TEST_NODE_MODULES (the SDK), MCP_TOKEN (bearer token, optional).
// Prints one JSON line per event: {"step": i, "event": "start"|"result"|"error", ...}; a failed
// connect exits 1 with the error on stderr.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.MCP_TEST_NODE_MODULES, "..", "resolve-from-here.js"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");

const timer = setTimeout(() => {
  console.error("ts_client: timed out after 30 s");
  process.exit(2);
}, 30000);

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const [kind, target, stepsJson] = process.argv.slice(2);
const token = process.env.MCP_TOKEN;
const headers = token ? { Authorization: `Bearer ${token}` } : {};
let transport;
if (kind === "http") {
  const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
  transport = new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers } });
} else if (kind === "sse") {
  const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");
  transport = new SSEClientTransport(new URL(target), {
    requestInit: { headers },
    eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }) },
  });
} else if (kind === "ws") {
  const { WebSocketClientTransport } = require("@modelcontextprotocol/sdk/client/websocket.js");
  transport = new WebSocketClientTransport(new URL(target));
} else if (kind === "stdio") {
  const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
  const [command, ...args] = JSON.parse(target);
  transport = new StdioClientTransport({ command, args, stderr: "inherit" });
} else {
  console.error(`ts_client: unknown transport ${kind}`);
  process.exit(1);
}

const client = new Client({ name: "gateway-e2e-ts", version: "1.0.0" });
try {
  await client.connect(transport);
} catch (e) {
  console.error(`ts_client: connect failed: ${e?.message ?? e}`);
  process.exit(1);
}
emit({ event: "connected", server: client.getServerVersion()?.name ?? null });

async function run(i, step) {
  emit({ step: i, event: "start" });
  try {
    let result;
    if (step.list) {
      result = { tools: (await client.listTools()).tools.map((t) => t.name).sort() };
    } else {
      result = await client.callTool({ name: step.call, arguments: step.args ?? {} });
    }
    emit({ step: i, event: "result", result });
  } catch (e) {
    emit({ step: i, event: "error", error: String(e?.message ?? e), code: e?.code ?? null });
  }
}

const running = [];
for (const [i, step] of JSON.parse(stepsJson).entries()) {
  const p = run(i, step);
  if (step.parallel) running.push(p);
  else await p;
}
await Promise.all(running);
try {
  await client.close();
} catch (e) {
  console.error(`ts_client: close failed: ${e?.message ?? e}`);
}
clearTimeout(timer);
