"""The conv2d under test: torch.nn.functional.conv2d by default, or any callable with its
signature named by --target package.module:function (a Triton kernel, an extension op, another
backend's op), judged by the same tests."""

from __future__ import annotations

import importlib
from functools import cache

from . import settings


@cache
def load_target(spec: str):
    """The callable `spec` names ("package.module:function", the function may be dotted)."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(f"--target {spec!r}: expected package.module:function")
    try:
        found = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"--target {spec!r}: cannot import {module_name}: {error}") from error
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ValueError(f"--target {spec!r}: {module_name} has no {attribute}")
        found = getattr(found, part)
    if not callable(found):
        raise ValueError(f"--target {spec!r}: {attribute} is not callable")
    return found


def target_conv2d():
    return load_target(settings.current().target)
