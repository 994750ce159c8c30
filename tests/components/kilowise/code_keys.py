"""The translation keys Kilowise's code uses, found by reading the code.

Every ``translation_key=`` argument, ``_attr_translation_key`` and key carried
by one of the integration's own exceptions is found with ``ast`` and resolved
to its possible values: a literal, a module constant (read from the imported
module, so enums and computed constants work), a local variable (every value
it is assigned, ``x if c else y`` both ways), or the matching element of a
``for a, b in ((A, ...), (B, ...))`` loop. The call around it tells what the
key names: an exception message, a repair issue, an entity, a selector.
Entity descriptions are also taken from the imported modules themselves, so
that descriptions built by a function are covered with their state options.

An argument that cannot be resolved (an f-string, an attribute of an object
made at run time) is reported: a translation key must be a name the tests can
check.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
import importlib
import inspect
from pathlib import Path
import re
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.helpers.entity import Entity

import custom_components.kilowise as package

PACKAGE_DIR = Path(package.__file__).parent
PACKAGE = package.__name__
UNRESOLVED = object()
COVERED = object()
"""``err.key`` of an integration exception that carries its key: the key was
found where the exception is raised."""


@dataclass(frozen=True)
class KeyUse:
    """One translation key used by the code, and where.

    ``required`` lists the keys (dotted, under the integration) that must
    exist; ``where`` is ``file:line``.
    """

    category: str
    key: str
    required: tuple[str, ...]
    where: str


def integration_modules() -> Iterator[tuple[str, Path]]:
    """(module name, path) of every Python module of the integration."""
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).with_suffix("")
        if relative.parts[0] == "engine":
            continue  # no Home Assistant in the engine, hence no translations
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        yield ".".join([PACKAGE, *parts]), path


def is_description_class(cls: type) -> bool:
    """Whether ``cls`` is an entity description class.

    Home Assistant makes descriptions frozen through a parallel class
    hierarchy (``frozen_dataclass_compat``), so the check goes by name.
    """
    return any(base.__name__ == "EntityDescription" for base in cls.__mro__)


def entity_platform(cls: type) -> str | None:
    """The platform of an entity or entity description class (``sensor``...)."""
    for base in cls.__mro__:
        module = base.__module__
        if module.startswith("homeassistant.components."):
            return module.split(".")[2]
    for base in cls.__mro__:
        name = base.__name__.removesuffix("EntityDescription")
        if name and name != base.__name__:
            # SensorEntityDescription -> sensor, BinarySensor... -> binary_sensor
            return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return None


def entity_keys(
    platform: str, translation_key: str, options: list[str] | None
) -> tuple[str, ...]:
    """What an entity's translation key needs: its name and its states."""
    base = f"entity.{platform}.{translation_key}"
    return (f"{base}.name", *(f"{base}.state.{option}" for option in options or ()))


def description_uses(module_name: str) -> Iterator[KeyUse]:
    """Entity descriptions held by a module (also in tuples, lists and dicts)."""
    module = importlib.import_module(module_name)

    def walk(value: Any, depth: int = 0) -> Iterator[Any]:
        if is_description_class(type(value)):
            yield value
        elif depth < 3 and isinstance(value, (tuple, list, set, frozenset)):
            for item in value:
                yield from walk(item, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for item in value.values():
                yield from walk(item, depth + 1)

    for name, value in vars(module).items():
        for description in walk(value):
            if description.translation_key is None:
                continue
            platform = entity_platform(type(description))
            assert platform is not None, f"{module_name}.{name}: no entity platform"
            options = None
            if getattr(description, "device_class", None) == SensorDeviceClass.ENUM:
                options = [str(option) for option in description.options]
            yield KeyUse(
                "entity",
                description.translation_key,
                entity_keys(platform, description.translation_key, options),
                f"{module_name}.{name} ({description.key})",
            )


class _Resolver:
    """Values an expression of one module can take."""

    def __init__(self, module: Any, tree: ast.Module) -> None:
        self.module = module
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def scope(self, node: ast.AST) -> ast.AST | None:
        """The function around ``node``, if any."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None

    def values(self, node: ast.AST, at: ast.AST, depth: int = 0) -> list[Any]:
        """Every value ``node`` (found at ``at``) may have; UNRESOLVED if unknown."""
        if depth > 8:
            return [UNRESOLVED]
        if isinstance(node, ast.Constant):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return self.values(node.body, at, depth + 1) + self.values(
                node.orelse, at, depth + 1
            )
        if isinstance(node, ast.BoolOp):
            return [v for part in node.values for v in self.values(part, at, depth + 1)]
        if isinstance(node, (ast.Tuple, ast.List)):
            return [tuple(self.values(item, at, depth + 1)[0] for item in node.elts)]
        if isinstance(node, ast.Attribute):
            if node.attr in ("key", "translation_key") and self.carrier(node.value, at):
                return [COVERED]
            found = []
            for base in self.values(node.value, at, depth + 1):
                found.append(getattr(base, node.attr, UNRESOLVED))
            return found
        if isinstance(node, ast.Name):
            local = self.local_values(node.id, at, depth)
            if local:
                return local
            if hasattr(self.module, node.id):
                return [getattr(self.module, node.id)]
            builtins_ = (
                __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
            )
            return [builtins_.get(node.id, UNRESOLVED)]
        return [UNRESOLVED]

    def carrier(self, node: ast.AST, at: ast.AST) -> bool:
        """Whether ``node`` is a parameter typed as a key-carrying exception."""
        function = self.scope(at)
        if not isinstance(node, ast.Name) or function is None:
            return False
        assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for arg in function.args.args + function.args.kwonlyargs:
            if arg.arg == node.id and arg.annotation is not None:
                for value in self.values(arg.annotation, function):
                    cls = (
                        getattr(self.module, value, None)
                        if isinstance(value, str)
                        else value
                    )
                    if (
                        isinstance(cls, type)
                        and issubclass(cls, BaseException)
                        and cls.__module__.startswith(PACKAGE)
                        and _key_parameter(cls) is not None
                    ):
                        return True
        return False

    def local_values(self, name: str, at: ast.AST, depth: int) -> list[Any]:
        """Values a local variable of the function around ``at`` is given."""
        function = self.scope(at)
        if function is None:
            return []
        found: list[Any] = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        found += self.values(node.value, node, depth + 1)
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
                target = node.target
                if (
                    isinstance(target, ast.Name)
                    and target.id == name
                    and node.value is not None
                ):
                    found += self.values(node.value, node, depth + 1)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                found += self.loop_values(node, name, depth)
            elif isinstance(node, ast.arg) and node.arg == name:
                found.append(UNRESOLVED)
        return found

    def loop_values(
        self, loop: ast.For | ast.AsyncFor, name: str, depth: int
    ) -> list[Any]:
        target = loop.target
        if isinstance(target, ast.Name):
            if target.id != name:
                return []
            index = None
        elif isinstance(target, ast.Tuple):
            names = [
                elt.id if isinstance(elt, ast.Name) else None for elt in target.elts
            ]
            if name not in names:
                return []
            index = names.index(name)
        else:
            return []
        items: list[Any] = []
        for iterable in self.values(loop.iter, loop, depth + 1):
            if iterable is UNRESOLVED or isinstance(iterable, (str, bytes)):
                return [UNRESOLVED]
            try:
                items += list(iterable)
            except TypeError:
                return [UNRESOLVED]
        if isinstance(loop.iter, (ast.Tuple, ast.List)):
            # Literal rows: resolve each row's element on its own.
            items = []
            for row in loop.iter.elts:
                if index is None:
                    items += self.values(row, loop, depth + 1)
                elif isinstance(row, (ast.Tuple, ast.List)):
                    items += self.values(row.elts[index], loop, depth + 1)
                else:
                    items.append(UNRESOLVED)
            return items
        if index is None:
            return items
        return [
            item[index] if isinstance(item, tuple) else UNRESOLVED for item in items
        ]


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _key_parameter(cls: type) -> int | None:
    """Position of a ``key``/``translation_key`` parameter of an exception class."""
    try:
        parameters = list(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return None
    for name in ("translation_key", "key"):
        if name in parameters:
            return parameters.index(name)
    return None


@dataclass
class _Collector:
    """Keys found in one module."""

    resolver: _Resolver
    relative: Path
    uses: list[KeyUse]
    unresolved: list[str]

    def add(
        self, category: str, node: ast.AST, at: ast.AST, required: Callable[[str], Any]
    ) -> None:
        """Record the key(s) ``node`` may be, or that it cannot be resolved."""
        where = f"{self.relative}:{getattr(at, 'lineno', '?')}"
        for value in self.resolver.values(node, at):
            if value is COVERED:
                continue
            if not isinstance(value, str):
                self.unresolved.append(f"{where}: {ast.unparse(node)}")
                continue
            self.uses.append(KeyUse(category, value, tuple(required(value)), where))


def code_uses() -> tuple[list[KeyUse], list[str]]:
    """Every translation key the code uses, and the uses that cannot be resolved."""
    uses: list[KeyUse] = []
    unresolved: list[str] = []
    for module_name, path in integration_modules():
        module = importlib.import_module(module_name)
        uses += description_uses(module_name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        resolver = _Resolver(module, tree)
        collector = _Collector(
            resolver, path.relative_to(PACKAGE_DIR.parent.parent), uses, unresolved
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                _scan_call(node, resolver, collector.add)
            elif isinstance(node, ast.Assign):
                _scan_entity_attribute(node, module, resolver, collector.add)
    return uses, unresolved


def _scan_call(call: ast.Call, resolver: _Resolver, add: Any) -> None:
    name = _call_name(call)
    targets = [obj for obj in resolver.values(call.func, call) if isinstance(obj, type)]
    for keyword in call.keywords:
        if keyword.arg != "translation_key":
            continue
        receiver = (
            ast.unparse(call.func.value) if isinstance(call.func, ast.Attribute) else ""
        )
        if name == "async_get_or_create" and "issue" in receiver:
            add("issues", keyword.value, call, lambda key: (f"issues.{key}.title",))
        elif name in ("DeviceInfo", "async_get_or_create"):
            add(
                "device",
                keyword.value,
                call,
                lambda key: (f"device.{key}.name",),
            )
        elif name in ("async_create_issue", "create_issue"):
            add(
                "issues",
                keyword.value,
                call,
                lambda key: (f"issues.{key}.title",),
            )
        elif any(is_description_class(cls) for cls in targets):
            platform = entity_platform(targets[0])
            add(
                "entity",
                keyword.value,
                call,
                lambda key, platform=platform: (f"entity.{platform}.{key}.name",),
            )
        elif any(issubclass(cls, BaseException) for cls in targets):
            add(
                "exceptions",
                keyword.value,
                call,
                lambda key: (f"exceptions.{key}.message",),
            )
        elif name.endswith(("SelectorConfig", "Selector")):
            options = _selector_options(call, resolver)
            add(
                "selector",
                keyword.value,
                call,
                lambda key, options=options: tuple(
                    f"selector.{key}.options.{option}" for option in options
                ),
            )
        else:
            add("unknown", keyword.value, call, lambda key: ())
    # The integration's own exceptions that carry a translation key.
    for cls in targets:
        if not (issubclass(cls, BaseException) and cls.__module__.startswith(PACKAGE)):
            continue
        index = _key_parameter(cls)
        if index is not None and index < len(call.args):
            add(
                "exceptions",
                call.args[index],
                call,
                lambda key: (f"exceptions.{key}.message",),
            )


def _selector_options(call: ast.Call, resolver: _Resolver) -> list[str]:
    for keyword in call.keywords:
        if keyword.arg == "options":
            for value in resolver.values(keyword.value, call):
                if isinstance(value, (list, tuple)):
                    return [
                        str(getattr(item, "value", item))
                        if not isinstance(item, dict)
                        else str(item["value"])
                        for item in value
                    ]
    return []


def _scan_entity_attribute(
    node: ast.Assign, module: Any, resolver: _Resolver, add: Any
) -> None:
    """``_attr_translation_key = ...`` in an entity class or its methods."""
    for target in node.targets:
        attr = (
            target.id
            if isinstance(target, ast.Name)
            else target.attr
            if isinstance(target, ast.Attribute)
            else None
        )
        if attr != "_attr_translation_key":
            continue
        owner: ast.AST | None = node
        while owner is not None and not isinstance(owner, ast.ClassDef):
            owner = resolver.parents.get(owner)
        cls = getattr(module, owner.name, None) if owner is not None else None
        platform = (
            entity_platform(cls)
            if isinstance(cls, type) and issubclass(cls, Entity)
            else None
        )
        add(
            "entity",
            node.value,
            node,
            lambda key, platform=platform: (f"entity.{platform}.{key}.name",),
        )
