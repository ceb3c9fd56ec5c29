"""The official Python SDK 1.x `websocket_client` against an MCP server over WebSocket.

Usage: python python_client.py <ws:// URL>   (the mcp[ws]==1.30.0 venv)

Prints one JSON object per line, `{"step": ..., "result": <the result as on the wire>}`, for the
Rust test to check. Any failure raises, so the process exits non-zero.
"""

import json
import sys

import anyio
from mcp import ClientSession
from mcp.client.websocket import websocket_client


def emit(step, result):
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    print(json.dumps({"step": step, "result": result}), flush=True)


async def main(url):
    async with websocket_client(url) as (read, write):
        async with ClientSession(read, write) as session:
            emit("initialize", await session.initialize())
            emit("tools/list", await session.list_tools())
            emit("tools/call", await session.call_tool("echo", {"message": "hello from python"}))
            emit("tools/call-simple", await session.call_tool("test_simple_text", {}))


anyio.run(main, sys.argv[1])
