"""OSPFv2 as FRR's ospfd does it: its configuration, what vtysh shows of it.

:mod:`.config` parses an frr.conf, :mod:`.views` holds the snapshots a running
daemon hands out, :mod:`.show` prints them as vtysh's ``show`` commands do.
"""

from .config import FrrConfigError, OspfConfig, OspfInterfaceConfig, parse_frr_config
from .views import LsaView, NeighborView, OspfdView, OspfInterfaceView, OspfRouteView, RouteView

__all__ = [
    "FrrConfigError", "OspfConfig", "OspfInterfaceConfig", "parse_frr_config",
    "NeighborView", "RouteView", "OspfRouteView", "OspfInterfaceView", "LsaView", "OspfdView",
]
