"""The anchor the API origin is compared with: a bare FastAPI app behind Starlette's
CORSMiddleware, configured for the same preflight and actual request, served the same way
(uvicorn, h11, one process).

Run: python -m tests.bench.anchor PORT PAGE_ORIGIN
"""

from __future__ import annotations

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


def main() -> None:
    port, page_origin = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(build(page_origin), host="127.0.0.1", port=port, http="h11",
                log_level="warning", access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
