"""The official Python SDK's HTTP clients against an MCP server.

Usage: python python_client.py <streamable|sse> <url>

Prints one JSON object per line, `{"step": ..., "result": <the result as on the wire>}`, for the
Rust test to check. Any failure raises, so the process exits non-zero.
"""

import json
import sys

import anyio
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client


def emit(step, result):
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    print(json.dumps({"step": step, "result": result}), flush=True)


async def exercise(read, write):
    async with ClientSession(read, write) as session:
        emit("initialize", await session.initialize())
        emit("tools/list", await session.list_tools())
        emit("tools/call", await session.call_tool("echo", {"message": "hello from python"}))
        emit("resources/read", await session.read_resource("test://static-text"))


async def main(mode, url):
    if mode == "sse":
        async with sse_client(url) as streams:
            await exercise(streams[0], streams[1])
    else:
        async with streamable_http_client(url) as streams:
            await exercise(streams[0], streams[1])
    emit("closed", {})


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
