// The official TypeScript SDK's HTTP clients against an MCP server.
//
// Usage: node ts_client.cjs <streamable|sse> <url>   (NODE_PATH: the interop node_modules)
//
// Prints one JSON object per line, {"step": ..., "result": <the result>}, for the Rust test to
// check; any failure exits non-zero.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");

function emit(step, result) {
  process.stdout.write(JSON.stringify({ step, result }) + "\n");
}

async function main(mode, url) {
  const transport =
    mode === "sse" ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: "interop-ts", version: "1.0.0" });
  await client.connect(transport);
  emit("initialize", { serverInfo: client.getServerVersion(), sessionId: transport.sessionId ?? null });
  emit("tools/list", await client.listTools());
  emit("tools/call", await client.callTool({ name: "echo", arguments: { message: "hello from typescript" } }));
  let progress = 0;
  const withProgress = await client.callTool(
    { name: "test_tool_with_progress", arguments: {} },
    undefined,
    { onprogress: () => { progress += 1; } },
  );
  emit("progress", { notifications: progress, result: withProgress });
  emit("resources/read", await client.readResource({ uri: "test://static-text" }));
  if (mode !== "sse") {
    await transport.terminateSession();
  }
  await client.close();
  emit("closed", {});
}

main(process.argv[2], process.argv[3]).catch((err) => {
  console.error(err);
  process.exit(1);
});
