"""The files ``ipsecsim run`` writes: checked before the run, write failures reported after it.

A run writes files (``--json``, ``--trace``) and directories of files (``--pcap``, ``--plot``, ``--csv``)
while it simulates or after it. :meth:`RunOutputs.problem` says, before anything is simulated,
why a path cannot be used, so a typo costs no simulation. A write that fails anyway (disk
full, a directory removed meanwhile) is noted by :meth:`RunOutputs.attempt` as one line, and
the run's summary is still printed.

The checks create nothing: a directory that does not exist yet is fine when its nearest
existing ancestor is a directory we may write in (it is created, with its parents, when the
files are written). ``os.access`` answers for the effective user, so as root only a read-only
file system or a file in the way stops a write, as it would stop root's own writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["RunOutputs", "directory_problem", "file_problem"]

_WRITE_IN = os.W_OK | os.X_OK  # what creating an entry in a directory takes
_DIRECTORIES = ("--pcap", "--plot", "--csv")
_WRITTEN_WHILE_RUNNING = ("--pcap", "--trace")


def file_problem(path: str | os.PathLike[str], made: Iterable[str | os.PathLike[str]] = ()) -> str | None:
    """Why a file cannot be written at ``path``, or ``None``. Its directory must exist, or be
    one of the directories ``made`` (already checked) for other outputs: ``--pcap out --trace out/t``."""
    target = Path(path)
    if target.is_dir():
        return "it is a directory; name a file"
    if target.exists():  # a regular file is replaced; /dev/null and other devices are written to
        return None if os.access(target, os.W_OK) else "the file is not writable (permission denied)"
    parent = target.parent
    if any(_same(parent, directory) for directory in made):
        return None
    if not parent.exists():
        ancestor = _nearest_existing(parent)
        if not ancestor.is_dir():
            return f"{ancestor} is a file, not a directory"
        return f"the directory {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is a file, not a directory"
    if not os.access(parent, _WRITE_IN):
        return f"the directory {parent} is not writable (permission denied)"
    return None


def directory_problem(path: str | os.PathLike[str]) -> str | None:
    """Why files cannot be written into the directory ``path`` (created if missing), or ``None``."""
    target = Path(path)
    if target.exists():
        if not target.is_dir():
            return "it is a file, not a directory"
        if not os.access(target, _WRITE_IN):
            return "the directory is not writable (permission denied)"
        return None
    ancestor = _nearest_existing(target)
    if not ancestor.is_dir():
        return f"{ancestor} is a file, not a directory, so the directory cannot be created"
    if not os.access(ancestor, _WRITE_IN):
        return f"the directory cannot be created: {ancestor} is not writable (permission denied)"
    return None


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (the root, or ``.`` for a relative path)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


class RunOutputs:
    """The outputs of one run by option (``--json`` -> its path); ``errors`` holds failed writes."""

    def __init__(self, scenario: str | os.PathLike[str] | None = None, *, source: str = "scenario file",
                 **paths: str | os.PathLike[str] | None):
        self.scenario = scenario  # never to be written over
        self.source = source  # what the file read is, in messages
        self.paths = {f"--{option}": os.fspath(path) for option, path in paths.items() if path}
        self.errors: list[str] = []
        self._seen: set[tuple] = set()

    def problem(self) -> str | None:
        """``ipsecsim: --json /nonexistent/x.json: the directory /nonexistent does not exist``, or None."""
        directories = {option: path for option, path in self.paths.items() if option in _DIRECTORIES}
        seen: dict[Path, str] = {}
        for option, path in self.paths.items():
            clash = seen.setdefault(Path(path).absolute(), option)
            if clash != option:
                return f"ipsecsim: {option} {path}: {clash} writes there too; name another path"
            if self.scenario is not None and _same(path, self.scenario):
                return f"ipsecsim: {option} {path}: that is the {self.source}; name another file"
            if option in directories:
                problem = directory_problem(path)
            else:
                problem = file_problem(path, made=directories.values())
            if problem:
                return f"ipsecsim: {option} {path}: {problem}"
        return None

    def make_directories(self) -> str | None:
        """Create the ``--pcap``, ``--plot`` and ``--csv`` directories now, so that a ``--json`` or ``--trace``
        file may go into one (plots are written last); the problem if one cannot be, else None."""
        for option, path in self.paths.items():
            if option in _DIRECTORIES:
                try:
                    Path(path).mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    return f"ipsecsim: {option} {path}: the directory cannot be created: {error.strerror or error}"
        return None

    def attempt(self, write: Callable[..., object], *args: object, option: str | None = None) -> None:
        """Call ``write(*args)``; an OSError is noted in :attr:`errors` (against ``option`` if given)."""
        try:
            write(*args)
        except OSError as error:
            self.failed(error, option)

    def failed(self, error: OSError, option: str | None = None, note: str = "") -> None:
        """Note ``error`` as one line naming the option, its path and, if another, the file."""
        name = error.filename
        option = option or self._option_of(name)
        if (error.errno, name, option) in self._seen:  # a failed flush fails again when the file closes
            return
        self._seen.add((error.errno, name, option))
        reason = (error.strerror or str(error)) + (f"; {note}" if note else "")
        if option is not None:
            other = name is not None and not _same(name, self.paths[option])
            line = f"{option} {self.paths[option]}: cannot write {name if other else 'it'}: {reason}"
        elif name is not None:
            line = f"cannot write {name}: {reason}"
        else:  # a buffered write does not say which file failed: name those written during the run
            during = [f"{o} {p}" for o, p in self.paths.items() if o in _WRITTEN_WHILE_RUNNING]
            line = f"{', '.join(during) or 'an output'}: cannot write {'it' if len(during) == 1 else 'them'}: {reason}"
        self.errors.append(f"ipsecsim: {line}")

    def _option_of(self, name: str | os.PathLike[str] | None) -> str | None:
        """The option whose path ``name`` is, or lies in."""
        if name is None:
            return None
        written = Path(os.fspath(name)).absolute()
        for option, path in self.paths.items():
            if _same(written, path) or Path(path).absolute() in written.parents:
                return option
        return None


def _same(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    return Path(os.fspath(a)).absolute() == Path(os.fspath(b)).absolute()
