"""A small sh that runs a host's ``run:`` block, one command after another, at the current
simulated time.

It behaves as FreeBSD's ``sh`` running a script without ``-e``: a failing
command is reported and the script goes on; ``strict=True`` stops at the first
failure, as ``sh -e`` does. Every failure becomes a :class:`CommandError` naming
the scenario file, line and column, with the command's own message
(``ifconfig: interface em7 does not exist``). So does every refusal a command
reports and survives (setkey's ``The result of line N: File exists.``, ifconfig's
warnings), even with exit status 0; a refusal inside a heredoc is placed at its
own line of the heredoc.

Commands run to completion when called; a ``ping`` starts in the background and
prints to the host's :class:`~.console.Console` as its replies arrive, while the
script continues (there is no ``wait``: the simulation clock only moves between
commands). Supported: words, '…' and "…" quoting, backslash escapes and line
continuation, ``;``, ``&&``, ``||``, ``#`` comments, heredocs (``<<EOF``,
``<<'EOF'``, ``<<-EOF``) given to the command as stdin, and redirection of
stdout/stderr to ``/dev/null`` (``>/dev/null``, ``2>&1``). No variables,
globbing, pipelines or subshells.
"""

from dataclasses import dataclass, field
from typing import Callable

from ..kernel import Host
from . import builtins, ifconfig, ifconfig_ipsec, netstat, ping_cmd, route, setkey, swanctl, sysctl, vtysh  # noqa: F401 - fill COMMANDS
from ._core import COMMANDS, CommandContext, Exit, Refusal
from ._libc import EX_SOFTWARE
from ._parse import Command, Locator, parse
from .console import Console

__all__ = ["Shell", "ShellResult", "CommandError"]


class CommandError(Exception):
    """A failed command: ``str()`` is ``FILE:LINE:COL: MESSAGE``."""

    def __init__(self, file: str, line: int, col: int, command: str, message: str):
        super().__init__(file, line, col, command, message)
        self.file = file
        self.line = line
        self.col = col
        self.command = command
        self.message = message

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"

    def __repr__(self) -> str:
        return f"CommandError({str(self)!r}, command={self.command!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, CommandError) and self.args == other.args

    def __hash__(self) -> int:
        return hash(self.args)


@dataclass
class ShellResult:
    status: int  # the exit status of the last command run, as $? after a script
    output: str  # what the commands printed (stdout and stderr, interleaved)
    errors: list[CommandError] = field(default_factory=list)


class Shell:
    """One host's shell. ``programs`` collects what was started in the background (pings)."""

    def __init__(self, host: Host, console: Console):
        self.host = host
        self.console = console
        self.programs: list = []
        # Name lookup beyond /etc/hosts (the world may map host names to addresses).
        self.resolver: Callable[[str, int], object] | None = None

    def run(self, text: str, *, file: str | None = None,
            positions: list[tuple[int, int]] | None = None, strict: bool = False) -> ShellResult:
        """Run a script. ``positions[i]`` is the (line, col) in ``file`` where script line i starts."""
        locator = Locator(text)
        where = _Where(file or "<stdin>", locator, positions)
        commands, syntax_error = parse(text)
        output: list[str] = []
        errors: list[CommandError] = []
        status = 0
        for command in commands:
            if command.connector == "&&" and status != 0 or command.connector == "||" and status == 0:
                continue
            status, message, refusals = self._execute(command, output)
            if status != 0 and command.followed_by in ("&&", "||"):
                continue  # the script tests the status itself
            failures = [self._refusal_error(where, text, command, r) for r in refusals]
            if status != 0 and not failures:
                line, col = where.position(command.start)
                failures.append(CommandError(where.file, line, col, text[command.start:command.end], message))
            errors += failures
            if strict and failures:
                return ShellResult(status, "".join(output), errors)
        if syntax_error is not None:
            line, col = where.position(syntax_error.index)
            errors.append(CommandError(where.file, line, col, locator.line_text(syntax_error.index),
                                       syntax_error.message))
            output.append(f"sh: {syntax_error.message}\n")
            self.console.write(f"sh: {syntax_error.message}", stderr=True)
            status = 2
        return ShellResult(status, "".join(output), errors)

    @staticmethod
    def _refusal_error(where: "_Where", text: str, command: Command, refusal: Refusal) -> CommandError:
        """A refusal as a command error, at the heredoc line it names when it names one."""
        index, shown = command.start, text[command.start:command.end]
        if refusal.stdin_offset is not None and command.heredoc is not None:
            index = command.heredoc.script_index(refusal.stdin_offset)
            shown = where.locator.line_text(index).strip()
        line, col = where.position(index)
        return CommandError(where.file, line, col, shown, refusal.message)

    def _execute(self, command: Command, output: list[str]) -> tuple[int, str, list[Refusal]]:
        argv = [word.text for word in command.words]
        stdout_on, stderr_on, failure = _redirections(command.redirections)

        def sink(line: str, is_err: bool) -> None:
            if stderr_on if is_err else stdout_on:
                output.append(line + "\n")
                self.console.write(line, stderr=is_err)

        ctx = CommandContext(self.host, self.console, (command.heredoc.body or "") if command.heredoc else "",
                             resolver=self.resolver, _sink=sink)
        if failure is not None:
            ctx.err(failure)
            return 2, failure, []
        if not argv:
            return 0, "", []
        name = argv[0]
        main = COMMANDS.get(name)
        if main is None:
            ctx.err(f"{name}: not found")
            return 127, f"{name}: not found", []
        diagnostic = None
        try:
            status = main(ctx, argv)
        except Exit as exit_:
            if exit_.message:
                ctx.err(exit_.message)
            status = exit_.status
            diagnostic = exit_.diagnostic or (exit_.message.split("\n")[0] if exit_.message else None)
        except Exception as error:  # a bug in a command must not stop the simulation
            ctx.err(f"{name}: internal error: {type(error).__name__}: {error}")
            status = EX_SOFTWARE
        self.programs.extend(ctx.background)
        if status == 0:
            return 0, "", ctx.refusals
        message = diagnostic or ctx.diagnostic or next((line for line in ctx.err_lines if line), None)
        return status, message or f"{name}: exit status {status}", ctx.refusals


class _Where:
    def __init__(self, file: str, locator: Locator, positions: list[tuple[int, int]] | None):
        self.file = file
        self.locator = locator
        self.positions = positions

    def position(self, index: int) -> tuple[int, int]:
        line, col = self.locator.locate(max(index, 0))
        if self.positions is not None and line < len(self.positions):
            file_line, file_col = self.positions[line]
            return file_line, file_col + col
        return line + 1, col + 1


def _redirections(redirections: list[tuple[str, str]]) -> tuple[bool, bool, str | None]:
    """Apply ``>``/``2>``/``2>&1``/``<`` left to right: (stdout shown, stderr shown, error)."""
    shown = {"1": True, "2": True}
    for fd, target in redirections:
        if fd == "<":
            if target != "/dev/null":
                return True, True, f"cannot open {target}: No such file or directory"
            continue
        if fd not in shown:
            continue  # other descriptors: nothing writes to them
        if target.startswith("&"):
            source = target[1:]
            if source not in shown:
                return True, True, f"{source}: Bad file descriptor"
            shown[fd] = shown[source]
        elif target == "/dev/null":
            shown[fd] = False
        else:
            return True, True, f"cannot create {target}: Read-only file system"
    return shown["1"], shown["2"], None
