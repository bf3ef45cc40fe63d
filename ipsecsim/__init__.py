"""ipsecsim: a discrete-event simulator of FreeBSD hosts running if_ipsec(4).

    import ipsecsim
    sim = ipsecsim.load("scenarios/routed_three_hosts.yaml")
    result = sim.run()
    print(result.summary())
"""

__version__ = "0.1.0"


def load(path, **options):
    """Read a scenario and build its network; see :func:`ipsecsim.simulation.load`."""
    from .simulation import load as _load

    return _load(path, **options)


def loads(text, filename="<string>", **options):
    """Build a simulation from YAML text; see :func:`ipsecsim.simulation.loads`."""
    from .simulation import loads as _loads

    return _loads(text, filename, **options)


__all__ = ["load", "loads", "__version__"]
