// The official TypeScript SDK's client (StdioClientTransport) against an MCP server on stdio.
//
// Usage: node ts_client.cjs <server executable>   (NODE_PATH: the interop node_modules)
//
// Prints one JSON object per line, {"step": ..., "result": <the result>}, for the Rust test to
// check; any failure exits non-zero.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");

function emit(step, result) {
  process.stdout.write(JSON.stringify({ step, result }) + "\n");
}

async function main(server) {
  const transport = new StdioClientTransport({ command: server, args: [], stderr: "inherit" });
  const client = new Client({ name: "interop-ts", version: "1.0.0" });
  await client.connect(transport);
  emit("initialize", { serverInfo: client.getServerVersion(), capabilities: client.getServerCapabilities() });
  emit("tools/list", await client.listTools());
  emit("tools/call", await client.callTool({ name: "echo", arguments: { message: "hello from typescript" } }));
  emit("resources/list", await client.listResources());
  emit("resources/read", await client.readResource({ uri: "test://static-text" }));
  emit("prompts/list", await client.listPrompts());
  emit("prompts/get", await client.getPrompt({ name: "test_prompt_with_arguments", arguments: { arg1: "a", arg2: "b" } }));
  await client.close();
}

main(process.argv[2]).catch((err) => {
  console.error(err);
  process.exit(1);
});
