"""The official Python SDK's clients against an MCP server on stdio.

Usage: python python_client.py <server executable>

Runs the low-level `stdio_client` + `ClientSession` (initialize handshake), then the high-level
`Client` (which probes `server/discover` and falls back to `initialize`), and prints one JSON
object per line, `{"client": ..., "step": ..., "result": <the result as on the wire>}`, for the
Rust test to check. Any failure raises, so the process exits non-zero.
"""

import json
import sys

import anyio
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def emit(client, step, result):
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    print(json.dumps({"client": client, "step": step, "result": result}), flush=True)


async def exercise(name, client):
    emit(name, "tools/list", await client.list_tools())
    emit(name, "tools/call", await client.call_tool("echo", {"message": "hello from python"}))
    emit(name, "resources/list", await client.list_resources())
    emit(name, "resources/read", await client.read_resource("test://static-text"))
    emit(name, "prompts/list", await client.list_prompts())
    emit(name, "prompts/get", await client.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"}))


async def main(server):
    params = StdioServerParameters(command=server, args=[])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            emit("session", "initialize", await session.initialize())
            await exercise("session", session)
    async with Client(params) as client:
        await exercise("client", client)


anyio.run(main, sys.argv[1])
