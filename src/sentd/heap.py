"""The garbage collector in a long-running process.

Python's cyclic collector walks, on each full collection, every object it tracks. After startup
a sentd process holds a few hundred thousand such objects that live as long as it does
(modules, the app and its routes, pydantic models, the templates of the error catalog), and
under load a request's garbage triggered full collections often enough to show in the tail:
measured on the accept benchmark, p99 went from ~125 ms to ~50 ms and the API's CPU per send
fell by ~13 % once they were moved out of the collector's reach.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect what startup left behind, then exempt every object still alive from future
    collections (`gc.freeze`). Called once a process is ready to serve or work; objects made
    afterwards are collected as usual."""
    gc.collect()
    gc.freeze()
