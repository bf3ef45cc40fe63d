"""What the transport layer hands to programs: send errors and receive callbacks."""

from ..netipsec.errnos import STRERROR as ERRNO_TEXT, KernelError

__all__ = ["SendError", "ERRNO_TEXT"]


class SendError(KernelError):
    """sendto(2) failed; ``str()`` is strerror's text, as ``ping: sendto: ...`` prints it."""

    def __init__(self, errno_name: str):
        super().__init__(errno_name)
