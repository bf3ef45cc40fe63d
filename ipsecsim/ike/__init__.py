"""The IKEv2 daemon's sans-IO foundations: messages, proposals, keys (RFC 7296).

It sits beside ospf/: above the kernel, below userland, and never touches simpy or a clock.
"""

from .keys import *  # noqa: F401,F403
from .keys import __all__ as _keys_all
from .message import *  # noqa: F401,F403
from .message import __all__ as _message_all
from .proposals import *  # noqa: F401,F403
from .proposals import __all__ as _proposals_all

__all__ = [*_message_all, *_proposals_all, *_keys_all]
