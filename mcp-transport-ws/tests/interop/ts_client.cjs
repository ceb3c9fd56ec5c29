// The official TypeScript SDK's WebSocketClientTransport against an MCP server over WebSocket.
//
// Usage: node ts_client.cjs <ws:// URL>   (NODE_PATH: the interop node_modules; Node 22 has WebSocket)
//
// Prints one JSON object per line, {"step": ..., "result": <the result>}, for the Rust test to
// check; any failure exits non-zero.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { WebSocketClientTransport } = require("@modelcontextprotocol/sdk/client/websocket.js");

function emit(step, result) {
  process.stdout.write(JSON.stringify({ step, result }) + "\n");
}

async function main(url) {
  const transport = new WebSocketClientTransport(new URL(url));
  const client = new Client({ name: "interop-ts-ws", version: "1.0.0" });
  await client.connect(transport);
  emit("initialize", { serverInfo: client.getServerVersion(), capabilities: client.getServerCapabilities() });
  emit("tools/list", await client.listTools());
  emit("tools/call", await client.callTool({ name: "echo", arguments: { message: "hello from typescript" } }));
  emit("tools/call-simple", await client.callTool({ name: "test_simple_text", arguments: {} }));
  await client.close();
}

main(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
