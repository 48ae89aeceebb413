"""SessionDep: one transaction per request, committed before the response goes out."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.models.areas import Ward
from bot.staff.deps import SessionDep


def _app(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.state.engine = engine

    @app.post("/wards/{code}")
    def add_ward(code: str, db: SessionDep) -> Response:
        db.add(Ward(code=code, name=code))
        return RedirectResponse(f"/wards/{code}", status_code=303)

    @app.post("/refused/{code}")
    def refuse(code: str, db: SessionDep) -> Response:
        db.add(Ward(code=code, name=code))
        db.flush()
        raise HTTPException(status_code=409)

    return app


def _ward_codes(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return list(db.exec(select(Ward.code)).all())


async def _post(app: FastAPI, path: str, on_start: Any = None) -> int:
    """Call the app over ASGI; `on_start` runs when the response's status line is sent."""
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
            if on_start is not None:
                on_start()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return status[0]


async def test_the_write_is_committed_before_the_redirect_leaves(engine: Engine) -> None:
    seen: list[list[str]] = []
    status = await _post(_app(engine), "/wards/w9", lambda: seen.append(_ward_codes(engine)))
    assert status == 303
    assert "w9" in seen[0]  # a browser following the redirect finds the row


async def test_an_exception_rolls_the_request_back(engine: Engine) -> None:
    assert await _post(_app(engine), "/refused/w8") == 409
    assert "w8" not in _ward_codes(engine)
