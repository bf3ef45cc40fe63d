"""The summary's note on ``ips_out_nosa`` drops tells the SAD as it was when the packets were
dropped, not as it is at the end of the run. [S5.5] [S7.1] [S8.2]

A's SA 10000 (192.168.0.3 -> 192.168.0.5, reqid 100) carries a 1000-datagram-a-second flow
through ipsec0 from 2 s to 8 s; the timeline changes A's SAD under it.
"""

from __future__ import annotations

from .helpers import A_OUT, B_IN, B_OUT, KEY1, Bench, cbc, manpage_host, scenario_yaml

FLOW = f"{{udp: {{name: bulk, from: A, to: {B_IN}, rate: 8Mbit/s, size: 1000, start: 2s, stop: 8s}}}}"
ACQUIRE_ADVICE = "add it with setkey (an IKE daemon would answer the SADB_ACQUIRE the kernel sent)"


def setkey(at: str, line: str) -> str:
    """A timeline entry running one ``setkey -c`` line on A."""
    line = line.replace('"', '\\"')
    return f'{{at: {at}, host: A, run: "setkey -c <<EOF\\n{line}\\nEOF"}}'


def delete(at: str) -> str:
    return setkey(at, f"delete {A_OUT} {B_OUT} esp 10000;")


def add(at: str, spi: int, extensions: str) -> str:
    return setkey(at, f"add {A_OUT} {B_OUT} esp {spi} {extensions} {cbc(KEY1)};")


def run(*timeline: str):
    hosts = {"A": manpage_host("A"), "B": manpage_host("B")}
    bench = Bench(scenario_yaml(hosts, duration="9s", traffic=(FLOW,), timeline=timeline))
    return bench.run(9.0)


def test_an_sa_deleted_and_added_again_is_told_missing_while_it_was():
    """Deleted at 4 s, added again at 6 s: the 2,000 drops in between found no SA at all,
    though at the end of the run the SAD holds exactly the SA the policy needs."""
    result = run(delete("4s"), add("6s", 10000, "-m tunnel -u 100"))
    assert result.drops == {"ips_out_nosa": 2000}
    assert result.flows["bulk"]["received"] == 4000
    assert result.notes == [
        "A: 2,000 packets dropped (ips_out_nosa) from 4.000 s to 5.999 s: the policy needs an ESP SA "
        f"192.168.0.3 -> 192.168.0.5 with reqid 100 and the SAD had none; {ACQUIRE_ADVICE}"]


def test_each_state_of_the_sad_gets_its_own_note():
    """None at 3 s; at 4 s an SA with the wrong reqid; at 4.5 s one in the wrong mode as well;
    at 5 s the right one: three situations, three notes, each with its own span and count."""
    result = run(delete("3s"), add("4s", 10002, "-m tunnel -u 300"), add("4.5s", 10003, "-m transport -u 100"),
                 add("5s", 10000, "-m tunnel -u 100"))
    assert result.drops == {"ips_out_nosa": 2000}
    assert result.notes == [
        "A: 1,000 packets dropped (ips_out_nosa) from 3.000 s to 3.999 s: the policy needs an ESP SA "
        f"192.168.0.3 -> 192.168.0.5 with reqid 100 and the SAD had none; {ACQUIRE_ADVICE}",
        "A: 500 packets dropped (ips_out_nosa) from 4.000 s to 4.499 s: the policy needs an ESP SA "
        '192.168.0.3 -> 192.168.0.5 with reqid 100, but the SAD had spi 10002 with reqid 300; add it with "-u 100"',
        "A: 500 packets dropped (ips_out_nosa) from 4.500 s to 4.999 s: the policy needs an ESP SA "
        "192.168.0.3 -> 192.168.0.5 with reqid 100, but the SAD had spi 10003 with reqid 100 in transport mode, "
        'spi 10002 with reqid 300; add it with "-m tunnel -u 100"',
    ]


def test_an_sa_in_the_wrong_mode_is_named_with_the_option_it_lacks():
    result = run(delete("4s"), add("4s", 10002, "-m transport -u 100"), add("5s", 10000, "-m tunnel -u 100"))
    assert result.notes == [
        "A: 1,000 packets dropped (ips_out_nosa) from 4.000 s to 4.999 s: the policy needs an ESP SA "
        "192.168.0.3 -> 192.168.0.5 with reqid 100, but the SAD had spi 10002 with reqid 100 in transport mode; "
        'add it with "-m tunnel"']


def test_one_dropped_packet_is_told_at_its_time():
    hosts = {"A": manpage_host("A", sas=False), "B": manpage_host("B")}
    bench = Bench(scenario_yaml(hosts, duration="2s", traffic=(f"{{ping: {{from: A, to: {B_IN}, count: 1}}}}",)))
    result = bench.run(2.0)
    assert result.notes == [
        "A: 1 packet dropped (ips_out_nosa) at 0.000 s: the policy needs an ESP SA 192.168.0.3 -> 192.168.0.5 "
        f"with reqid 100 and the SAD had none; {ACQUIRE_ADVICE}"]
