"""What every command gets: its context, a way to fail as ``errx(3)`` does, the command table.

A command is a function ``main(ctx, argv) -> exit status``; ``argv[0]`` is the
name it was called by (``ping`` or ``ping6``). Later issues add commands
(``setkey``) with :func:`register`.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

from ..kernel import Host

if TYPE_CHECKING:
    from .console import Console

__all__ = ["CommandContext", "Command", "COMMANDS", "register", "Exit", "Program", "Refusal"]


class Exit(Exception):
    """``errx(status, message)``: leave the command now, ``message`` going to stderr.

    ``diagnostic`` replaces the message as the one-line summary the shell reports
    for this failure (route prints its most useful line on stdout).
    """

    def __init__(self, status: int, message: str | None = None, *, diagnostic: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.diagnostic = diagnostic


@dataclass(frozen=True, slots=True)
class Refusal:
    """Something the kernel refused that the command reported and went on from.

    FreeBSD's programs survive these: ifconfig's ``warn("ioctl(IPSECSREQID)")``, setkey's
    ``The result of line N: File exists.``; the exit status may still be 0. A scenario
    treats each as a command error all the same, so ``ipsecsim check`` finds it.
    ``stdin_offset`` points into the command's stdin (a setkey statement in a heredoc).
    """

    message: str
    stdin_offset: int | None = None


class Program(Protocol):
    """A program that keeps running after its command returned (ping)."""

    def start(self): ...


@dataclass
class CommandContext:
    """The process a command runs as: host, stdin (a heredoc's text), stdout and stderr."""

    host: Host
    console: "Console"
    stdin: str = ""
    out_lines: list[str] = field(default_factory=list)
    err_lines: list[str] = field(default_factory=list)
    diagnostic: str | None = None
    background: list = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    # errno as the program's last failing library call or ioctl left it ("0": none yet); warn(3)
    # messages end with its strerror, even when the failure they report did not set it.
    errno: str = "0"
    resolver: Callable[[str, int], object] | None = None
    _sink: Callable[[str, bool], None] | None = None

    def out(self, text: str = "") -> None:
        """Write ``text`` and a newline to stdout."""
        for line in text.split("\n"):
            self.out_lines.append(line)
            if self._sink is not None:
                self._sink(line, False)

    def err(self, text: str) -> None:
        """Write ``text`` and a newline to stderr."""
        for line in text.split("\n"):
            self.err_lines.append(line)
            if self._sink is not None:
                self._sink(line, True)

    def warn(self, text: str) -> None:
        """``warn(3)``: ``text`` on stderr, and the command goes on; a refusal all the same."""
        self.err(text)
        self.refused(text)

    def refused(self, message: str, *, stdin_offset: int | None = None) -> None:
        """Record a refusal the command survives (see :class:`Refusal`); it prints nothing."""
        self.refusals.append(Refusal(message, stdin_offset))

    def start(self, program: Program) -> Program:
        """Run ``program`` in the background (``cmd &``); its output goes to the console later."""
        self.background.append(program)
        program.start()
        return program

    def resolve(self, name: str, family: int):
        """A host name to an address of ``family`` (4 or 6), or None (gethostbyname2)."""
        from ._libc import HOSTS

        if self.resolver is not None:
            found = self.resolver(name, family)
            if found is not None:
                return found
        entry = HOSTS.get(name)
        return None if entry is None else entry[0 if family == 4 else 1]


Command = Callable[[CommandContext, list[str]], int]

# The command table the shell dispatches on; see register().
COMMANDS: dict[str, Command] = {}


def register(*names: str) -> Callable[[Command], Command]:
    """Decorator: make a command callable by each of ``names``."""

    def wrap(fn: Command) -> Command:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return wrap
