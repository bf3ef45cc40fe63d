"""What the transport layer hands to programs: send errors and receive callbacks."""

__all__ = ["SendError", "ERRNO_TEXT"]

# strerror(3) texts for the errno names the stack returns to programs.
ERRNO_TEXT = {
    "EHOSTUNREACH": "No route to host",
    "ENETUNREACH": "Network is unreachable",
    "ENETDOWN": "Network is down",
    "EMSGSIZE": "Message too long",
    "ENOBUFS": "No buffer space available",
    "EADDRNOTAVAIL": "Can't assign requested address",
    "EACCES": "Permission denied",
    "EINVAL": "Invalid argument",
}


class SendError(Exception):
    """sendto(2) failed; ``str()`` is strerror's text, as ``ping: sendto: ...`` prints it."""

    def __init__(self, errno_name: str):
        super().__init__(ERRNO_TEXT.get(errno_name, errno_name))
        self.errno_name = errno_name
