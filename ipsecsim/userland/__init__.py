"""The commands a scenario or a student types on a simulated FreeBSD host, and the small sh
that runs them: ifconfig, route, netstat, sysctl, ping/ping6, hostname, echo.

Output follows FreeBSD's format strings and errors FreeBSD's messages; see each
command's module. Later commands (setkey) join with :func:`register`.
"""

from ._core import COMMANDS, Command, CommandContext, Exit, register
from .console import Console
from .ping import Ping, PingStats
from .shell import CommandError, Shell, ShellResult

__all__ = [
    "Shell", "ShellResult", "CommandError", "Console", "CommandContext", "Command", "COMMANDS",
    "register", "Exit", "Ping", "PingStats",
]
