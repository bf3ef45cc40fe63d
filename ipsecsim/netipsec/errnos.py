"""errno names, FreeBSD's strerror(3) texts, and :class:`KernelError`, the root of every
errno a kernel request answers with.

The key engine (here in ``netipsec``) and the host stack (``kernel``) both refuse requests
with an errno, and userland prints strerror's text for it: one table and one base class
serve all of them. Errors are named by their errno symbol ("EINVAL"), as FreeBSD's
sources name them, rather than by number.
"""

__all__ = ["STRERROR", "KernelError", "strerror"]

# sys/sys/errno.h names -> lib/libc/gen/errlst.c texts, for the errnos the simulator returns.
STRERROR = {
    "0": "No error: 0",  # sys_errlist[0]: what warn() appends when nothing has set errno
    "EPERM": "Operation not permitted",
    "ENOENT": "No such file or directory",
    "ESRCH": "No such process",
    "ENXIO": "Device not configured",
    "ENOMEM": "Cannot allocate memory",
    "EACCES": "Permission denied",
    "EBUSY": "Device busy",
    "EEXIST": "File exists",
    "EINVAL": "Invalid argument",
    "ERANGE": "Result too large",
    "EAGAIN": "Resource temporarily unavailable",
    "EMSGSIZE": "Message too long",
    "EPROTONOSUPPORT": "Protocol not supported",
    "EOPNOTSUPP": "Operation not supported",
    "ENOTSUP": "Operation not supported",
    "EAFNOSUPPORT": "Address family not supported by protocol family",
    "EADDRINUSE": "Address already in use",
    "EADDRNOTAVAIL": "Can't assign requested address",
    "ENETDOWN": "Network is down",
    "ENETUNREACH": "Network is unreachable",
    "ENOBUFS": "No buffer space available",
    "EHOSTUNREACH": "No route to host",
}


def strerror(errno_name: str) -> str:
    """strerror(3) of an errno name; an unknown name is returned as it is."""
    return STRERROR.get(errno_name, errno_name)


class KernelError(Exception):
    """A request the kernel refused. ``errno_name`` is the errno it returns ("EEXIST");
    ``str()`` is the given message, else strerror's text. Subclasses say which surface
    refused (a sysctl, an ioctl, the routing or PF_KEY socket), so callers can catch
    one surface or all of them."""

    def __init__(self, errno_name: str, message: str = ""):
        super().__init__(message or strerror(errno_name))
        self.errno_name = errno_name

    @property
    def strerror(self) -> str:
        return strerror(self.errno_name)
