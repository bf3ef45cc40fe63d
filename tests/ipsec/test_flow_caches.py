"""The kernel's per-flow caches never outlive what they cache: each change applies to the next packet.

The SA of an if_ipsec request and the inbound SA by SPI are cached (kernel/sacache.py), routes per
destination (Fib); a deleted SA, a changed route or a new policy must take effect at once, as in
FreeBSD, where key_allocsa_policy, key_allocsa and the route lookup run for every packet.
"""

from __future__ import annotations

import re

from .helpers import A_IN, A_OUT, B_IN, B_OUT, Bench, manpage_host, scenario_yaml


def manpage() -> Bench:
    return Bench(scenario_yaml({"A": manpage_host("A"), "B": manpage_host("B")}))


def received(lines: list[str]) -> int:
    for line in lines:
        m = re.match(r"(\d+) packets transmitted, (\d+) packets received", line)
        if m:
            return int(m[2])
    raise AssertionError("\n".join(lines))


def test_an_sa_deleted_mid_flow_stops_being_used_at_once():
    bench = manpage()
    assert received(bench.ping("A", f"-c 2 {B_IN}")) == 2
    sa = bench.sa("A", 10000)
    used = sa.current.allocations
    assert bench.sh("A", f"setkey -c <<EOF\ndelete {A_OUT} {B_OUT} esp 10000;\nEOF") == ""
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 0
    assert sa.current.allocations == used  # the cached SA was not used again
    assert bench.drops("A") == {"ips_out_nosa": 1}


def test_an_sa_added_after_a_miss_is_used_at_once():
    """No answer is cached: the next packet after an SADB_ADD finds the SA."""
    bench = Bench(scenario_yaml({"A": manpage_host("A", sas=False), "B": manpage_host("B")}))
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 0
    bench.sh("A", f'setkey -c <<EOF\nadd {A_OUT} {B_OUT} esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";\n'
                  f'add {B_OUT} {A_OUT} esp 10001 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!2";\nEOF')
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 1


def test_an_inbound_sa_deleted_mid_flow_is_not_found_at_once():
    bench = manpage()
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 1
    bench.sh("B", f"setkey -c <<EOF\ndelete {A_OUT} {B_OUT} esp 10000;\nEOF")
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 0
    assert bench.drops("B") == {"esps_notdb": 1}


def test_a_route_changed_mid_flow_takes_effect_at_once():
    """The ESP packet's route is looked up again: sent back into ipsec0, it meets OUT_DONE."""
    bench = manpage()
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 1
    bench.sh("A", f"route add -host {B_OUT} -iface ipsec0")
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 0
    assert bench.drops("A") == {"ENETDOWN (if_ipsec loop)": 1}
    bench.sh("A", f"route delete -host {B_OUT}")
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 1


def test_a_policy_added_mid_flow_applies_at_once():
    bench = manpage()
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 1
    bench.sh("A", f"setkey -c <<EOF\nspdadd {A_IN} {B_IN} any -P out discard;\nEOF")
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 0
    assert bench.drops("A") == {"ips_out_polvio": 1}


def test_an_sa_expiring_mid_flow_stops_being_used_at_once():
    """A hard lifetime is announced by SADB_EXPIRE, sent to registered sockets only."""
    bench = Bench(scenario_yaml({"A": manpage_host("A", sa_ext="-m tunnel -u 100 -lh 3 -ls 2"),
                                 "B": manpage_host("B")}))
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 1
    bench.run(bench.net.now + 4.0)
    assert received(bench.ping("A", f"-c 1 {B_IN}")) == 0
    assert bench.drops("A") == {"ips_out_nosa": 1}
