"""The anchor the API origin is compared with: a bare FastAPI app behind Starlette's
CORSMiddleware, configured for the same preflight and actual request, served the same way
(uvicorn, h11, one process).

Run: python -m tests.bench.anchor PORT PAGE_ORIGIN [WORKERS]
(WORKERS processes, as the playground's ``--workers``, to compare like with like).
"""

from __future__ import annotations

import os
import sys

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse


def build(page_origin: str) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[page_origin],
        allow_methods=["PUT"],
        allow_headers=["content-type"],
    )

    @app.api_route("/r/{run_id}", methods=["GET", "PUT"], response_class=PlainTextResponse)
    async def target(run_id: str) -> str:
        return f"Hello from the API origin: run {run_id} answered with 200.\n"

    return app


def app() -> FastAPI:
    """The app for uvicorn's worker processes (the page origin from the environment)."""
    return build(os.environ["ANCHOR_PAGE_ORIGIN"])


def main() -> None:
    port, page_origin = int(sys.argv[1]), sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if workers > 1:
        os.environ["ANCHOR_PAGE_ORIGIN"] = page_origin
        uvicorn.run("tests.bench.anchor:app", factory=True, workers=workers, host="127.0.0.1",
                    port=port, http="h11", log_level="warning", access_log=False)  # fmt: skip
        return
    uvicorn.run(build(page_origin), host="127.0.0.1", port=port, http="h11",
                log_level="warning", access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
