"""The JSON API behind `recall serve`: FastAPI over one warm process.

The model and the index are loaded when the server starts, before it listens. Every request
reads the index manifest, so a rebuild is served from the next request on, without a restart
and without reloading the model. Answers are the library's own dicts (`recall search --json`
and `recall related --json` print the same ones); errors are JSON with a status code, never
a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.answers import MAX_K, make_filters, related_answer
from indexer.embed import ModelLoadError
from indexer.export import hit_rows, index_stats, rows_to_markdown
from indexer.hits import MODES
from indexer.live import LiveIndex
from indexer.search import Searcher
from indexer.store import IndexProblem

_LOG = logging.getLogger("recall.api")

Mode = Literal[MODES]
Count = Annotated[int, Query(ge=1, le=MAX_K, description=f"number of results, 1 to {MAX_K}")]
Values = Annotated[list[str] | None, Query(description="repeat the parameter for several values")]


class ApiError(Exception):
    """An answer other than 200: its status code and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _required(value: str, what: str) -> str:
    """`value`, or a 400 saying that `what` is missing."""
    if not value.strip():
        raise ApiError(400, f"missing {what}")
    return value


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "query")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error["msg"])
    return "; ".join(parts) or "invalid request"


def create_app(live: LiveIndex) -> FastAPI:
    """The API serving `live`; its lifespan opens the index (and so loads the model)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            print(f"recall serve: {live.ready()}", file=sys.stderr, flush=True)
        except (IndexProblem, ModelLoadError) as exc:
            print(f"recall serve: no usable index yet ({exc})", file=sys.stderr, flush=True)
        yield

    # Its OpenAPI page (/docs) from assets in the package: no CDN, so it works offline.
    app = FastAPIOffline(
        title="Recall",
        summary="Search what a community has shared: the JSON of `recall search --json`.",
        version="1",
        lifespan=lifespan,
    )

    def searcher() -> Searcher:
        try:
            return live.searcher()
        except (IndexProblem, ModelLoadError) as exc:
            raise ApiError(503, str(exc)) from exc

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        _LOG.exception("error answering %s", request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); the server log has details")

    @app.get("/search", summary="Ranked resources for a question, as `recall search --json`")
    def search(
        q: Annotated[str, Query(description="the question, in Korean or English")] = "",
        k: Count = 10,
        contributor: Values = None,
        type: Values = None,
        domain: Values = None,
        since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
        until: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
        mode: Mode = "hybrid",
        expand: bool = False,
        format: Annotated[
            Literal["json", "md"], Query(description="md: the markdown list the app exports")
        ] = "json",
    ):
        _required(q, "query: give q=…")
        try:
            filters = make_filters(contributor or (), since, until, domain or (), type or ())
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        current = searcher()
        response = current.search(q, k=k, filters=filters, mode=mode, expand=expand)
        if format == "md":
            rows = hit_rows(current.reader, [hit.id for hit in response.results])
            return PlainTextResponse(rows_to_markdown(rows), media_type="text/markdown")
        return JSONResponse(response.to_dict())

    @app.get("/related", summary="Resources near one, as `recall related --json`")
    def related(
        id: Annotated[str, Query(description="a resource id or URL")] = "",
        k: Count = 5,
    ):
        _required(id, "resource: give id=… (an id or a URL)")
        try:
            hits = searcher().related(id, k=k)
        except KeyError as exc:
            raise ApiError(404, exc.args[0]) from exc
        return JSONResponse(related_answer(id, hits))

    @app.get("/resource", summary="Everything about one resource, its page text included")
    def resource(
        id: Annotated[str, Query(description="a resource id or URL")] = "",
    ):
        record = searcher().record(_required(id, "resource: give id=… (an id or a URL)"))
        if record is None:
            raise ApiError(404, f"no resource with id or URL {id!r} in the index")
        return JSONResponse(record)

    @app.get("/stats", summary="What the index holds, as `recall stats --json`")
    def stats():
        return JSONResponse(index_stats(searcher().reader))

    # HEAD too: uptime probes ask with it.
    @app.api_route(
        "/healthz", methods=["GET", "HEAD"], summary="Whether an index is served, and which"
    )
    def healthz():
        current = searcher()
        return {"status": "ok", "build_id": current.build_id, "model": current.embedder.name}

    return app


def serve(index: Path, host: str, port: int) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    app = create_app(LiveIndex(index))
    # Long questions must reach the API to be cut and reported, not be refused by the
    # HTTP parser (its default limit is 16 kB, about 1,800 percent-encoded Hangul).
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        h11_max_incomplete_event_size=1 << 20,
        timeout_graceful_shutdown=5,
    )
