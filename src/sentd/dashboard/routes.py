"""Mounts the dashboard on the application: its routers and its static files."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from sentd.dashboard import account, creating, operator, pages, web


def install(app: FastAPI) -> None:
    app.mount(
        f"{web.PREFIX}/static", StaticFiles(directory=web.STATIC_DIR), name="dashboard-static"
    )
    # `creating` before `pages`: its `/webhooks/new` must not be taken for a webhook's id.
    for router in (account.router, creating.router, pages.router, operator.router):
        app.include_router(router)
