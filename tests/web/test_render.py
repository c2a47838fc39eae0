"""app/web/render.py: the live events' templates are compiled when the playground starts, so the
first leg a learner sends does not wait for them."""

from __future__ import annotations

import time

from starlette.templating import Jinja2Templates

from app import resource_dir
from app.web import render
from app.web.server import BackgroundServer


def cached(templates: Jinja2Templates) -> set[str]:
    return {key[1] for key in templates.env.cache} if templates.env.cache else set()


def test_warming_compiles_a_template_and_everything_it_includes() -> None:
    templates = Jinja2Templates(directory=str(resource_dir("templates")))
    render.setup(templates)
    assert render.CARD not in cached(templates)
    render.warm(templates, [render.CARD])
    compiled = cached(templates)
    assert render.CARD in compiled and len(compiled) > 1  # its partials too
    assert render.LEG not in compiled  # only what was asked for


def test_the_live_templates_are_compiled_after_the_start_without_any_request() -> None:
    with BackgroundServer() as live:
        deadline = time.monotonic() + 10
        while not set(render.LIVE_TEMPLATES) <= cached(live.playground.templates):
            assert time.monotonic() < deadline, cached(live.playground.templates)
            time.sleep(0.02)


def test_a_compiled_template_is_not_checked_on_disk_again(monkeypatch) -> None:
    """The templates ship with the playground: rendering a leg does not stat() its files."""
    templates = Jinja2Templates(directory=str(resource_dir("templates")))
    render.setup(templates)
    render.warm(templates, [render.LEG])
    checked: list[str] = []
    loader = templates.env.loader
    original = loader.get_source

    def get_source(env, name):  # type: ignore[no-untyped-def]
        source, filename, uptodate = original(env, name)

        def watched() -> bool:
            checked.append(name)
            return uptodate()

        return source, filename, watched

    monkeypatch.setattr(loader, "get_source", get_source)
    templates.env.cache.clear()
    render.warm(templates, [render.LEG])
    templates.get_template(render.LEG)
    templates.get_template(render.LEG)
    assert checked == []
