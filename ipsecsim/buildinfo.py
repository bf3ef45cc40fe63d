"""Which build of ipsecsim is running: pure Python, or with the per-packet modules compiled.

The compiled build (setup.py, ``IPSECSIM_COMPILE=1``) puts a C extension beside each module
it compiles; Python's import system prefers the extension, so a module is compiled exactly
when its extension file sits next to its source.
"""

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

__all__ = ["compiled_modules", "build_name"]

_PACKAGE = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    """Dotted names of the ipsecsim modules that import as C extensions, sorted."""
    names = []
    for source in sorted(_PACKAGE.rglob("*.py")):
        if any(source.with_name(source.stem + suffix).exists() for suffix in EXTENSION_SUFFIXES):
            parts = source.relative_to(_PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts))
    return names


def build_name() -> str:
    """``"pure Python"`` or ``"compiled (N modules)"``, for benchmark and test headers."""
    compiled = compiled_modules()
    return f"compiled ({len(compiled)} modules)" if compiled else "pure Python"
