"""The grammar of the small sh: words, quotes, ``;``, ``&&``, ``||``, ``#``, heredocs, and
redirection to ``/dev/null``.

Parsing is separate from running so the shell can report every command's
position. Like sh, a script is read one list (a line, with its heredoc bodies)
at a time: a syntax error stops the script there, after the lines before it ran.
There is no variable expansion, globbing, pipeline or subshell; those are
syntax errors with a message saying so.
"""

from bisect import bisect_right
from dataclasses import dataclass, field

__all__ = ["Word", "Heredoc", "Command", "ShSyntaxError", "parse", "Locator"]

_METACHARS = frozenset(" \t\n;&|<>()")


@dataclass(slots=True)
class Word:
    text: str
    start: int  # index in the script


@dataclass(slots=True)
class Heredoc:
    delimiter: str
    strip_tabs: bool
    start: int
    body: str | None = None
    line_starts: list[int] = field(default_factory=list)  # script index of each body line's text

    def script_index(self, offset: int) -> int:
        """Where character ``offset`` of the body sits in the script (``<<-`` strips tabs)."""
        if not self.line_starts or self.body is None:
            return self.start
        line = self.body.count("\n", 0, max(offset, 0))
        if line >= len(self.line_starts):
            return self.line_starts[-1]
        line_start = self.body.rfind("\n", 0, max(offset, 0)) + 1
        return self.line_starts[line] + max(offset, 0) - line_start


@dataclass(slots=True)
class Command:
    """One simple command, with what joins it to the previous one (``;``, ``&&``, ``||``)."""

    connector: str = ";"
    words: list[Word] = field(default_factory=list)
    redirections: list[tuple[str, str]] = field(default_factory=list)  # (fd op, target)
    heredoc: Heredoc | None = None
    start: int = -1
    end: int = -1
    followed_by: str = ";"  # the connector of the next command in the same list, or ";"

    def empty(self) -> bool:
        return not self.words and not self.redirections and self.heredoc is None


class ShSyntaxError(Exception):
    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.message = message
        self.index = index


class Locator:
    """Script index -> (0-based line, 0-based column)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def locate(self, index: int) -> tuple[int, int]:
        line = bisect_right(self.starts, index) - 1
        return line, index - self.starts[line]

    def line_text(self, index: int) -> str:
        line, _ = self.locate(index)
        start = self.starts[line]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]


def parse(text: str) -> tuple[list[Command], ShSyntaxError | None]:
    """The commands of every complete list before the first syntax error, and that error."""
    return _Parser(text).run()


class _Parser:
    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.pending: list[Heredoc] = []
        self.done: list[Command] = []  # commands of complete lists
        self.current_list: list[Command] = []
        self.cmd = Command()

    def run(self) -> tuple[list[Command], ShSyntaxError | None]:
        try:
            self._parse()
        except ShSyntaxError as error:
            return self.done, error
        return self.done, None

    # -- token level -------------------------------------------------------------

    def _error(self, message: str, index: int | None = None) -> ShSyntaxError:
        return ShSyntaxError(f"Syntax error: {message}", self.i if index is None else index)

    def _parse(self) -> None:
        s = self.s
        n = len(s)
        while True:
            self._skip_blanks()
            if self.i >= n:
                break
            ch = s[self.i]
            if ch == "#":
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end
            elif ch == "\n":
                self._newline()
            elif ch == ";":
                if s.startswith(";;", self.i):
                    raise self._error('";;" unexpected')
                self._end_command(";")
                self.i += 1
            elif ch == "&":
                if not s.startswith("&&", self.i):
                    raise self._error("background jobs (&) are not supported; ping already runs in the background")
                self._end_command("&&")
                self.i += 2
            elif ch == "|":
                if not s.startswith("||", self.i):
                    raise self._error("pipelines (|) are not supported")
                self._end_command("||")
                self.i += 2
            elif ch in "()":
                raise self._error(f'"{ch}" unexpected (subshells are not supported)')
            elif ch == "<":
                self._input_redirection()
            elif ch == ">" or (ch in "0123456789" and s.startswith(">", self.i + 1)):
                self._output_redirection()
            else:
                word = self._word()
                if self.cmd.start < 0:
                    self.cmd.start = word.start
                self.cmd.words.append(word)
                self.cmd.end = self.i
        if self.pending:
            heredoc = self.pending[0]
            raise self._error(f'here-document not terminated (no line "{heredoc.delimiter}" before the end)',
                              heredoc.start)
        if self.cmd.empty():
            if self.cmd.connector in ("&&", "||"):
                raise self._error("end of file unexpected")
        else:
            self._end_command(";")
        self._finish_list()

    def _skip_blanks(self) -> None:
        s = self.s
        while self.i < len(s):
            if s[self.i] in " \t":
                self.i += 1
            elif s.startswith("\\\n", self.i):
                self.i += 2
            else:
                break

    def _newline(self) -> None:
        # A newline after && or || continues the list, as in sh.
        if self.cmd.empty() and self.cmd.connector in ("&&", "||"):
            self.i += 1
            self._read_heredocs()
            return
        if not self.cmd.empty():
            self._end_command(";")
        self.i += 1
        self._read_heredocs()
        self._finish_list()

    def _end_command(self, op: str) -> None:
        if self.cmd.empty():
            raise self._error(f'"{op}" unexpected')
        if self.current_list:
            self.current_list[-1].followed_by = self.cmd.connector
        self.current_list.append(self.cmd)
        self.cmd = Command(connector=op)

    def _finish_list(self) -> None:
        self.done.extend(self.current_list)
        self.current_list = []
        self.cmd = Command()

    def _read_heredocs(self) -> None:
        s = self.s
        while self.pending:
            heredoc = self.pending.pop(0)
            lines, starts = [], []
            while True:
                if self.i >= len(s):
                    raise self._error(f'here-document not terminated (no line "{heredoc.delimiter}" '
                                      'before the end)', heredoc.start)
                end = s.find("\n", self.i)
                line = s[self.i:] if end < 0 else s[self.i:end]
                start = self.i
                self.i = len(s) if end < 0 else end + 1
                if heredoc.strip_tabs:
                    start += len(line) - len(line.lstrip("\t"))
                    line = line.lstrip("\t")
                if line == heredoc.delimiter:
                    break
                lines.append(line + "\n")
                starts.append(start)
            heredoc.body = "".join(lines)
            heredoc.line_starts = starts

    # -- words and redirections ----------------------------------------------------

    def _word(self) -> Word:
        s = self.s
        n = len(s)
        start = self.i
        buf: list[str] = []
        while self.i < n:
            ch = s[self.i]
            if ch in _METACHARS:
                break
            if ch == "\\":
                if s.startswith("\\\n", self.i):
                    self.i += 2
                    continue
                if self.i + 1 < n:
                    buf.append(s[self.i + 1])
                self.i += 2
            elif ch == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise self._error("Unterminated quoted string", self.i)
                buf.append(s[self.i + 1 : end])
                self.i = end + 1
            elif ch == '"':
                quote = self.i
                self.i += 1
                while True:
                    if self.i >= n:
                        raise self._error("Unterminated quoted string", quote)
                    c = s[self.i]
                    if c == '"':
                        self.i += 1
                        break
                    if c == "\\" and self.i + 1 < n and s[self.i + 1] in '$`"\\\n':
                        if s[self.i + 1] != "\n":
                            buf.append(s[self.i + 1])
                        self.i += 2
                    else:
                        buf.append(c)
                        self.i += 1
            else:
                buf.append(ch)
                self.i += 1
        return Word("".join(buf), start)

    def _target(self, what: str) -> Word:
        self._skip_blanks()
        if self.i >= len(self.s) or self.s[self.i] in _METACHARS:
            shown = "newline" if self.i >= len(self.s) or self.s[self.i] == "\n" else self.s[self.i]
            raise self._error(f'"{shown}" unexpected (expecting {what})')
        return self._word()

    def _mark(self, start: int) -> None:
        if self.cmd.start < 0:
            self.cmd.start = start

    def _input_redirection(self) -> None:
        start = self.i
        if self.s.startswith("<<", self.i):
            self.i += 2
            strip = self.s.startswith("-", self.i)
            if strip:
                self.i += 1
            delimiter = self._target("a here-document delimiter").text
            heredoc = Heredoc(delimiter, strip, start)
            self.cmd.heredoc = heredoc
            self.pending.append(heredoc)
        else:
            self.i += 1
            self.cmd.redirections.append(("<", self._target("a file name").text))
        self._mark(start)
        self.cmd.end = self.i

    def _output_redirection(self) -> None:
        start = self.i
        fd = "1"
        if self.s[self.i].isdigit():
            fd = self.s[self.i]
            self.i += 1
        self.i += 1  # '>'
        if self.s.startswith(">", self.i):
            self.i += 1
        if self.s.startswith("&", self.i):
            self.i += 1
            target = "&" + self._target("a file descriptor").text
        else:
            target = self._target("a file name").text
        self.cmd.redirections.append((fd, target))
        self._mark(start)
        self.cmd.end = self.i
