"""Local stand-ins for third-party APIs sentd calls, each a real HTTP server on loopback."""
