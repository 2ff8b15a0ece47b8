"""One way to define a config record and one way to validate it, for every floor.

A config record (settings that a YAML section, a CLI flag set or a saved run gives) is declared
with `@config_record`: a pydantic dataclass that refuses unknown fields and checks each field's
limits (`Field(ge=...)`) and its cross-field rules (`__post_init__`) on construction, whether it is
built in code, from YAML, or copied with `dataclasses.replace`. Pydantic dataclasses rather than
BaseModels because records are dataclasses throughout the code (`replace`, `asdict`, inheritance of
the trainer configs), and `replace` re-validates where `BaseModel.model_copy` would not.

    record = load_record(SearchConfig, {"alpha": -1}, where="search")
    # ConfigError: invalid search config:
    #   search.alpha: Input should be greater than or equal to 0
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic.dataclasses import is_pydantic_dataclass

T = TypeVar("T")
STRICT = ConfigDict(extra="forbid")


def config_record(cls: type[T] | None = None, *, frozen: bool = False):
    """Make `cls` a config record (`@config_record` or `@config_record(frozen=True)`)."""
    def wrap(c: type[T]) -> type[T]:
        c.__config_record__ = True
        return pydantic_dataclass(c, frozen=frozen, config=STRICT)
    return wrap if cls is None else wrap(cls)


def is_config_record(cls: type) -> bool:
    return is_pydantic_dataclass(cls) and cls.__dict__.get("__config_record__", False) \
        and getattr(cls, "__pydantic_config__", {}).get("extra") == "forbid"


class ConfigError(ValueError):
    """Settings that are missing, unreadable or invalid; the message lists every problem, one a line."""


UNKNOWN_FIELD = ("unexpected_keyword_argument", "extra_forbidden")


def record_at(cls: type | None, loc: tuple) -> type | None:
    """The config record that sits at `loc` (a path of field names) inside record `cls`, if any."""
    for name in loc:
        fields = getattr(cls, "__pydantic_fields__", {})   # annotations resolved by pydantic
        if name not in fields:
            return None
        cls = fields[name].annotation
        if typing.get_origin(cls) in (typing.Union, types.UnionType):   # Optional[Section]
            cls = next((a for a in typing.get_args(cls) if a is not type(None)), None)
    return cls if dataclasses.is_dataclass(cls) else None


def problems(error: ValidationError, where: str = "", cls: type | None = None) -> list[str]:
    """One line per problem, each naming its place as it is written in YAML (`search.alpha: ...`);
    an unknown setting of record `cls` (or of a section in it) lists the allowed ones."""
    out = []
    for err in error.errors():
        place = ".".join([where] * bool(where) + [str(p) for p in err["loc"]]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        owner = record_at(cls, err["loc"][:-1]) if err["type"] in UNKNOWN_FIELD else None
        if owner is not None:
            msg = "unknown setting; allowed: " + ", ".join(f.name for f in dataclasses.fields(owner))
        out.append(f"{place}: {msg}")
    return out


def explain(error: Exception, where: str = "", cls: type | None = None) -> str:
    """A user's bad setting as text for one error line (several problems: joined by '; ')."""
    if isinstance(error, ValidationError):
        return "; ".join(problems(error, where, cls))
    return str(error)


def load_record(cls: type[T], data: Any, where: str = "", source: str = "") -> T:
    """`data` (a mapping from YAML or JSON) as a `cls` record; ConfigError lists every problem,
    one a line."""
    try:
        return TypeAdapter(cls).validate_python(data)
    except ValidationError as e:
        head = f"{source}: " if source else ""
        raise ConfigError(f"{head}invalid {where + ' ' if where else ''}config:\n"
                          + "\n".join(f"  {p}" for p in problems(e, where, cls))) from e


def dump_record(record: Any) -> dict[str, Any]:
    """A record as JSON-ready data that `load_record` turns back into an equal record."""
    return TypeAdapter(type(record)).dump_python(record, mode="json")
