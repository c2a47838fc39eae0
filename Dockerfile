# syntax=docker/dockerfile:1
# Build: docker build -t cors-playground .
# Run:   docker run --rm -p 8000:8000 -p 8001:8001 cors-playground

FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY app ./app
COPY templates ./templates
COPY static ./static
# hatch_build.py puts htmx from node_modules into the wheel's app/static/vendor/.
COPY --from=assets /src/node_modules/htmx.org/dist ./node_modules/htmx.org/dist
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN useradd --create-home --uid 10001 playground
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER playground
EXPOSE 8000 8001 8002
# Listen on every interface inside the container; each page takes its origin from the host
# name its browser used and the API origin is that name on port 8001, so both
# http://localhost:8000 on the host and http://<LAN name or address>:8000 from attendees work.
ENV CORS_PLAYGROUND_HOST=0.0.0.0
CMD ["cors-playground", "serve"]
