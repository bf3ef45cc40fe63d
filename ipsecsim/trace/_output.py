"""What every trace writer shares: a file it opened itself, or a stream it was given."""

from os import PathLike
from typing import IO

__all__ = ["TraceOutput"]


class TraceOutput:
    """Writes to ``target``: a path (opened here, closed by :meth:`close`) or an open stream
    (flushed by :meth:`close`, left open for its owner). Buffered; ``with`` closes it."""

    __slots__ = ("_file", "_write", "_owns", "_closed")

    def __init__(self, target: "str | PathLike[str] | IO", mode: str, **open_options):
        self._file: IO
        if isinstance(target, (str, PathLike)):
            self._file = open(target, mode, **open_options)
            self._owns = True
        else:
            self._file = target
            self._owns = False
        self._write = self._file.write
        self._closed = False

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Flush, and close the file if this writer opened it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.flush()
        finally:  # a failed flush (disk full) still closes the file, and only once
            if self._owns:
                self._file.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
