// Drives an MCP server over stdio with the official TypeScript SDK client and prints what it saw.
// usage: MCP_TEST_NODE_MODULES=.../interop/node_modules node ts_client.mjs SERVER_BINARY
import { createRequire } from "node:module";
import path from "node:path";

// The SDK lives in the workspace's interop/node_modules, not next to this script.
const require = createRequire(path.join(process.env.MCP_TEST_NODE_MODULES, "..", "resolve-from-here.js"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
const { CreateMessageRequestSchema } = require("@modelcontextprotocol/sdk/types.js");

const timer = setTimeout(() => {
  console.error("timed out after 30 s");
  process.exit(2);
}, 30000);

const client = new Client({ name: "ts-interop", version: "1.0.0" }, { capabilities: { sampling: {} } });
client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
  role: "assistant",
  content: { type: "text", text: `you asked ${request.params.messages[0].content.text}` },
  model: "ts-model",
}));
const transport = new StdioClientTransport({ command: process.argv[2], args: [], stderr: "inherit" });
await client.connect(transport);

const out = {};
out.version = client.getServerVersion()?.name;
out.protocol = transport.protocolVersion ?? null;
out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
out.echo = (await client.callTool({ name: "echo", arguments: { message: "hello from ts" } })).content[0].text;
out.add = (await client.callTool({ name: "add", arguments: { a: 2, b: 40 } })).structuredContent;
const progress = [];
const done = await client.callTool({ name: "progress", arguments: { steps: 3 } }, undefined, {
  onprogress: (p) => progress.push([p.progress, p.total]),
});
out.progress_result = done.content[0].text;
out.progress = progress;
out.sampling = (await client.callTool({ name: "ask_model", arguments: { question: "2+2?" } })).content[0].text;
const failed = await client.callTool({ name: "fail", arguments: {} });
out.fail = [failed.isError, failed.content[0].text];
out.readme = (await client.readResource({ uri: "mem://readme" })).contents[0].text;
out.greeting = (await client.readResource({ uri: "greeting://Ada" })).contents[0].text;
out.prompt = (await client.getPrompt({ name: "greet", arguments: { name: "Bob" } })).messages[0].content.text;
try {
  await client.callTool({ name: "echo", arguments: { message: 5 } });
  out.invalid = "accepted";
} catch (e) {
  out.invalid = String(e.message ?? e);
}
await client.ping();
await client.close();
clearTimeout(timer);
console.log(JSON.stringify(out));
