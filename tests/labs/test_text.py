"""The labs' sentences as data: each fills in, names a reference, and is used by a lab."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from app.labs import text

SENTENCES = {
    f"{group}:{key}": sentence
    for group, sentences in (
        ("cache", text.CACHE),
        ("redirects", text.REDIRECTS),
        ("cookies", text.COOKIES),
    )
    for key, sentence in sentences.items()
}
LAB_SOURCES = {
    group: (Path(text.__file__).parent / f"{group}.py").read_text()
    for group in ("cache", "redirects", "cookies")
}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", list(SENTENCES))
def test_each_sentence_fills_in_and_has_a_reference_and_a_tone(key: str) -> None:
    sentence = SENTENCES[key]
    values = dict.fromkeys(fields(sentence.template), 1.25)
    point = sentence.point(**values)
    assert "{" not in point.text and "}" not in point.text
    assert point.tone in text.TONES
    assert point.href is not None and point.href.startswith("https://")
    # The link is named after what it references (a screen reader lists links by name).
    assert point.reference and point.reference.split(":")[0] in ("Fetch Standard", "MDN")


@pytest.mark.parametrize("key", list(SENTENCES))
def test_each_sentence_is_said_by_its_lab(key: str) -> None:
    group, name = key.split(":", 1)
    assert f'"{name}"' in LAB_SOURCES[group]


@pytest.mark.parametrize("key", list(text.PHRASES))
def test_each_phrase_is_used_by_a_lab(key: str) -> None:
    assert any(f'"{key}"' in source for source in LAB_SOURCES.values())


def test_a_sentence_without_a_reference_has_no_link() -> None:
    assert text.Sentence("Plain {word}.").point(word="text") == text.Point("Plain text.")
