"""The read side's shared output schemas and query helpers: a page of a list, a click-through
link, an option, a code with its labels. ``reports`` builds them and ``web`` serves them, so they
live here (the web layer imports the read side, never the other way round)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


def like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``escape="\\"``: its own % and _ match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def one_of(value: str | None, allowed: Any, field: str) -> str | None:
    """A query value that must be one of ``allowed`` (None passes)."""
    if value is not None and value not in allowed:
        raise ValueError(f"{field} must be one of {', '.join(map(str, allowed))}")
    return value


def sort_key(value: str, allowed: Any) -> str:
    """A ``sort`` parameter: a field of ``allowed``, ``-`` in front for descending."""
    if value.removeprefix("-") not in allowed:
        raise ValueError(f"sort must be one of {', '.join(allowed)} (prefix - for descending)")
    return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Out, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class Link(Out):
    """Where a figure clicks through to: a front-end list and its query parameters."""

    path: str
    query: dict[str, str]


class Option(Out):
    value: str
    label_zh: str
    label_en: str
    children: list[Option] | None = None


class Labelled(Out):
    """A formatted value for people: a label and its display text in both languages."""

    key: str
    label_zh: str
    label_en: str
    display_zh: str
    display_en: str
