"""A server of the official Python SDK (MCPServer) on stdio, for our client to call.

Usage: python python_server.py
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("python-echo")


@server.tool()
def echo(message: str) -> str:
    """Echoes the message back."""
    return f"Python echo: {message}"


server.run("stdio")
