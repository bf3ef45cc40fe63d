"""A host's console: every line its commands and background programs print, with the
simulated time it was printed at.

The shell writes a command's output here as it runs; a background ``ping``
keeps writing as its replies arrive, so the console is the one place that holds
a host's whole transcript in time order.
"""

from typing import Callable

from ..kernel import Host

__all__ = ["Console"]

# listener(time, host name, line, is_stderr)
Listener = Callable[[float, str, str, bool], None]


class Console:
    def __init__(self, host: Host):
        self.host = host
        self.entries: list[tuple[float, str]] = []
        self.stderr: list[bool] = []  # parallel to entries: True for lines written to stderr
        self.listeners: list[Listener] = []

    def write(self, text: str, *, stderr: bool = False) -> None:
        """Append ``text`` (one or more lines; a final newline is optional) at the current time."""
        if text.endswith("\n"):
            text = text[:-1]
        now = self.host.clock.now
        for line in text.split("\n"):
            self.entries.append((now, line))
            self.stderr.append(stderr)
            for listener in self.listeners:
                listener(now, self.host.name, line, stderr)

    def text(self, *, times: bool = False) -> str:
        """The transcript; with ``times``, each line starts with ``[  12.345678]``."""
        if times:
            lines = [f"[{t:11.6f}] {line}" for t, line in self.entries]
        else:
            lines = [line for _, line in self.entries]
        return "".join(line + "\n" for line in lines)

    def since(self, index: int) -> str:
        """The text written after the first ``index`` entries (what a later command added)."""
        return "".join(line + "\n" for _, line in self.entries[index:])

    def __len__(self) -> int:
        return len(self.entries)
