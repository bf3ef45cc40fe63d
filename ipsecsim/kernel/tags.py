"""What travels with a packet besides its bytes: FreeBSD's mbuf flags and tags.

FreeBSD marks an mbuf as it moves through IPsec, and later code reads the marks
from the packet itself:

* ``PACKET_TAG_IPSEC_OUT_DONE`` (``ipsec_process_done``): the packet is already
  ESP; ``ip_output`` does not look the SPD up again and ``ipsec_transmit``
  (if_ipsec) refuses to encapsulate it a second time [S5.2] [S5.3] [S5.6];
* ``PACKET_TAG_IPSEC_IN_DONE`` (``ipsec_common_input_cb``): the packet came out
  of an SA; ``ipsec4_in_reject`` counts it as protected when
  ``net.inet.ipsec.check_policy_history`` is set [S9.6];
* ``M_DECRYPTED`` (an mbuf flag, set by ``esp_input_cb``): meets a require/unique
  ESP request on input; if_ipsec clears it (``m_clrprotoflags``) [S9.4] [S9.6].

The receiving interface (``m_pkthdr.rcvif``) is the ``ifp`` the input functions
already take. Most packets carry no tag at all and pass ``None``; the tagged ones
share the few immutable instances below, so a tag costs no allocation per packet.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PacketTags", "OUT_DONE", "IN_DONE", "IN_DONE_DECRYPTED"]


@dataclass(frozen=True, slots=True)
class PacketTags:
    """The IPsec marks of one packet; frozen, so that packets may share an instance."""

    out_done: bool = False
    in_done: bool = False
    decrypted: bool = False


OUT_DONE = PacketTags(out_done=True)  # an ESP packet this host just made
IN_DONE_DECRYPTED = PacketTags(in_done=True, decrypted=True)  # out of an SA, delivered as is
IN_DONE = PacketTags(in_done=True)  # out of an SA, attributed to if_ipsec (M_DECRYPTED cleared)
