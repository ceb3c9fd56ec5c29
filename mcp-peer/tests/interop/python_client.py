"""Drives an MCP server over stdio with the official Python SDK client and prints what it saw.

usage: python python_client.py SERVER_BINARY MODE [SERVER_ARGS...]   (MODE: legacy | auto)
"""

import json
import sys

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters


async def sampling(context, params):
    question = params.messages[0].content.text
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text=f"you asked {question}"), model="py-model"
    )


async def main() -> None:
    server = StdioServerParameters(command=sys.argv[1], args=sys.argv[3:])
    progress = []

    async def on_progress(value, total, message):
        progress.append([value, total])

    out = {}
    with anyio.fail_after(30):
        async with Client(server, sampling_callback=sampling, mode=sys.argv[2]) as client:
            out["version"] = client.protocol_version
            out["server"] = client.server_info.name if client.server_info else None
            out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
            out["echo"] = (await client.call_tool("echo", {"message": "hello from python"})).content[0].text
            added = await client.call_tool("add", {"a": 2, "b": 40})
            out["add"] = added.structured_content
            done = await client.call_tool("progress", {"steps": 3}, progress_callback=on_progress)
            out["progress_result"] = done.content[0].text
            out["progress"] = progress
            out["sampling"] = (await client.call_tool("ask_model", {"question": "2+2?"})).content[0].text
            failed = await client.call_tool("fail", {})
            out["fail"] = [failed.is_error, failed.content[0].text]
            out["readme"] = (await client.read_resource("mem://readme")).contents[0].text
            out["greeting"] = (await client.read_resource("greeting://Ada")).contents[0].text
            prompt = await client.get_prompt("greet", {"name": "Bob"})
            out["prompt"] = prompt.messages[0].content.text
            try:
                await client.call_tool("echo", {"message": 5})
                out["invalid"] = "accepted"
            except Exception as e:  # noqa: BLE001 - the test asserts on the text
                out["invalid"] = str(e)
    print(json.dumps(out))


anyio.run(main)
