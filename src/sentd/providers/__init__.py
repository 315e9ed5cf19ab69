"""Outbound providers sentd talks to: the WhatsApp Cloud API (template submission so far).

Each provider is a small client over `sentd.outbound` whose base URL comes from settings, so that
a test can point it at a local fake of the real API.
"""
