"""The one error a malformed packet raises."""

__all__ = ["MalformedPacket"]


class MalformedPacket(ValueError):
    """Bytes that do not parse as the protocol claimed.

    ``reason`` is a short phrase such as ``"truncated IPv4 header"``; the kernel
    uses it as the drop reason, so it must read well in a summary table.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
