"""The official Python SDK's Streamable HTTP client against the gateway.

Usage: python python_client.py URL

Lists the tools and calls `echo`; prints one JSON object per line,
`{"step": ..., "result": <the result as on the wire>}`. Any failure raises (exit non-zero).
"""

import json
import sys

import anyio
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def emit(step, result):
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    print(json.dumps({"step": step, "result": result}), flush=True)


async def main(url):
    with anyio.fail_after(30):
        async with streamable_http_client(url) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                emit("initialize", await session.initialize())
                emit("tools/list", await session.list_tools())
                emit("tools/call", await session.call_tool("echo", {"message": "hello from python"}))


anyio.run(main, sys.argv[1])
