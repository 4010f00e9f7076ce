"""What templates receive: plain, immutable data built from the model by one allow-list converter.

A template sees read-only mappings (:class:`Record`), read-only sequences (:class:`Items`), ``str``,
``Markup``, ``int``, ``float``, ``bool``, ``None``, ``datetime.date`` and the few functions someone
exposed on purpose (:class:`Function`). :func:`to_data` refuses every other type, so a new field
holding a live object (a path, a model with public methods) fails loudly instead of reaching a
template. Each container knows its size (characters of its text, counted through its items), so
the sandbox can tell in constant time how large a value would be when written out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

from markupsafe import Markup
from pydantic import BaseModel

NUMBER_SIZE = 24  # characters a number (or None, a bool, a date) counts for when written out


class Record(Mapping[Any, Any]):
    """A read-only mapping: ``x.key`` and ``x["key"]`` in a template, and ``items``, ``keys``,
    ``values``, ``get`` (the only methods the sandbox lets a template call on it)."""

    __slots__ = ("_data", "_size")

    def __init__(self, data: dict[Any, Any], size: int) -> None:
        self._data = data
        self._size = size

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def __hash__(self) -> int:
        return id(self)


class Items(Sequence[Any]):
    """A read-only sequence (no methods a template may call; it iterates, indexes, has a length)."""

    __slots__ = ("_items", "_size")

    def __init__(self, items: tuple[Any, ...], size: int) -> None:
        self._items = items
        self._size = size

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Any, ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Items):
            return self._items == other._items
        return isinstance(other, (tuple, list)) and self._items == tuple(other)

    def __hash__(self) -> int:
        return id(self)


class Function:
    """A function exposed to templates on purpose (``handbook.contact.line(labels.hotline)``): it
    takes plain values and returns plain data, and has no attribute a template may read."""

    __slots__ = ("_fn", "_name")

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self._fn = fn
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if not isinstance(value, (str, int, float, type(None))):
                raise TypeError(f"{self._name}() takes text or numbers, not {type(value).__name__}")
        return to_data(self._fn(*args, **kwargs))

    def __repr__(self) -> str:
        return f"<function {self._name}>"


def size_of(value: Any) -> int:
    """The characters ``value`` makes when written out, for plain data (constant time)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (Record, Items)):
        return value._size
    return NUMBER_SIZE


# Methods exposed on purpose, by class: name -> the method. Everything else on a model is data.
EXPOSED_METHODS: dict[type, tuple[str, ...]] = {}


def expose(*names: str) -> Callable[[type], type]:
    """Class decorator: these methods of the class are callable from templates."""

    def mark(cls: type) -> type:
        EXPOSED_METHODS[cls] = names
        return cls

    return mark


def _record(pairs: dict[Any, Any], where: str) -> Record:
    data = {}
    size = 2
    for key, value in pairs.items():
        if not isinstance(key, (str, int)) and not (isinstance(key, tuple) and all(
                isinstance(k, (str, int)) for k in key)):
            raise TypeError(f"{where}: a template cannot be given a key of type {type(key).__name__}")
        converted = to_data(value, f"{where}.{key}")
        data[key] = converted
        size += size_of(converted) + len(str(key)) + 4
    return Record(data, size)


def _public_properties(cls: type) -> list[str]:
    names = []
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            if isinstance(attr, property) and not name.startswith("_") and name not in names:
                names.append(name)
    return names


def _fields_of(obj: Any, hidden: tuple[str, ...]) -> dict[str, Any]:
    cls = type(obj)
    names = list(type(obj).model_fields) if isinstance(obj, BaseModel) else [f.name for f in dataclasses.fields(obj)]
    names += [p for p in _public_properties(cls) if p not in names and not hasattr(BaseModel, p)]
    values: dict[str, Any] = {name: getattr(obj, name) for name in names if name not in hidden}
    for name in EXPOSED_METHODS.get(cls, ()):
        values[name] = Function(getattr(obj, name), name)
    return values


# Fields a template never sees (paths of the build machine, the model's own bookkeeping).
HIDDEN_FIELDS: dict[str, tuple[str, ...]] = {
    "DepartmentInfo": ("folder", "raw"),
    "Chapter": ("texts",),  # the text again, with lines: for the glyph check
    "Card": ("texts", "location"),
    "Edition": ("texts", "settings_at"),
}


def to_data(value: Any, where: str = "value") -> Any:
    """``value`` as plain immutable data for a template; a type not on the allow-list is a TypeError."""
    if value is None or type(value) in (bool, int, float, str, dt.date) or isinstance(
            value, (Markup, Record, Items, Function)):
        return value
    if isinstance(value, str):  # an enum or other subclass: its plain text
        return str.__str__(value)
    if type(value) is dt.date:
        return value
    if isinstance(value, Mapping):
        return _record(dict(value), where)
    if isinstance(value, (list, tuple)):
        items = tuple(to_data(item, f"{where}[{i}]") for i, item in enumerate(value))
        return Items(items, 2 + sum(size_of(item) + 2 for item in items))
    if isinstance(value, BaseModel) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        fields = _fields_of(value, HIDDEN_FIELDS.get(type(value).__name__, ()))
        if type(value).__name__ == "DepartmentInfo":
            # The rest of department.yaml is data too (department.anything_else), never its folder.
            raw: dict[str, Any] = getattr(value, "raw", {})
            fields = {**{k: v for k, v in raw.items() if k not in fields}, **fields}
        return _record(fields, where)
    raise TypeError(f"{where}: a template cannot be given a {type(value).__module__}.{type(value).__qualname__} "
                    "(only plain data: mappings, sequences, text, numbers, dates)")
