"""The ``ipsecsim`` command: run, check, report, shell.

Exit status: 0 when every expectation holds, 1 when one fails, 2 on bad input
(a scenario error printed as ``FILE:LINE:COL: what is wrong``), 130 when Ctrl-C stopped
``run`` (it still prints and saves the results so far). Never a traceback:
an internal error prints one line and asks for a bug report (set IPSECSIM_DEBUG=1
for the traceback).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
import sys

import click

from .buildinfo import build_name
from .outputs import RunOutputs
from .scenario import ScenarioError
from .scenario.units import UnitError, format_duration, parse_duration

EXIT_OK, EXIT_EXPECTATION_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 70
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped


def _guarded(command):
    """Turn every failure into a message and an exit status."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ScenarioError as error:
            click.echo(str(error), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:  # Ctrl-C before the run or while saving: stop, quietly
            click.echo("ipsecsim: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # "ipsecsim run ... | head": the reader left; so do we, quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("IPSECSIM_DEBUG"):
                raise
            click.echo(f"ipsecsim: internal error: {type(error).__name__}: {error}", err=True)
            click.echo("ipsecsim: this is a bug; rerun with IPSECSIM_DEBUG=1 and report the traceback", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


def _bin(ctx, param, value):
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except UnitError as error:
        raise click.BadParameter(str(error)) from None
    if not seconds >= 1e-6:
        raise click.BadParameter(f"'{value}': a bin is at least 1us wide, e.g. 50ms")
    return seconds


def _duration(ctx, param, value):
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except UnitError as error:
        raise click.BadParameter(str(error)) from None
    if seconds <= 0:
        raise click.BadParameter(f"'{value}' is zero; a run lasts more than 0, e.g. 30s")
    return seconds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ipsecsim", message=f"%(prog)s %(version)s ({build_name()})")
def main():
    """Simulate FreeBSD hosts running IPsec, from a YAML scenario."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--pcap", "pcap_dir", type=click.Path(), help="Write DIR/<host>-<if>.pcap for every interface.")
@click.option("--trace", "trace_file", type=click.Path(), help="Write a JSON-lines event log.")
@click.option("--json", "json_file", type=click.Path(), help="Write the results as JSON.")
@click.option("--plot", "plot_dir", type=click.Path(), help="Write the plots into DIR, as PNG and SVG.")
@click.option("--csv", "csv_dir", type=click.Path(), help="Write flows, time series and events as CSV into DIR.")
@click.option("--seed", type=click.IntRange(0, 2**64 - 1), help="Override the scenario's seed (0 to 2**64-1).")
@click.option("--duration", callback=_duration, help="Override the scenario's duration, e.g. 30s.")
@click.option("--quiet", is_flag=True, help="Print only the summary (no progress bar, no consoles).")
@click.option("--strict", is_flag=True, help="A failing command in a run: block stops the run (exit 2).")
@click.option("--bin", "bin_width", callback=_bin, help="Width of the time series' bins, e.g. 50ms (100ms).")
@_guarded
def run(scenario, pcap_dir, trace_file, json_file, plot_dir, csv_dir, seed, duration, quiet, strict, bin_width):
    """Run SCENARIO and print the summary."""
    from . import simulation

    path = _existing(scenario)
    outputs = RunOutputs(path, pcap=pcap_dir, trace=trace_file, json=json_file, plot=plot_dir, csv=csv_dir)
    problem = outputs.problem() or outputs.make_directories()
    if problem:  # now, not after minutes of simulation
        click.echo(problem, err=True)
        sys.exit(EXIT_BAD_INPUT)
    sim = simulation.load(path, seed=seed, duration=duration, pcap=pcap_dir, trace=trace_file,
                          strict=strict, bin=bin_width)
    for warning in sim.warnings:
        click.echo(warning, err=True)
    failure = None
    try:
        sim.run(progress=False if quiet else None)  # a bar on a terminal only
    except KeyboardInterrupt:  # Ctrl-C: stop, then print and save what was simulated so far
        pass
    except ScenarioError as error:  # --strict and a timeline command failed: keep what was recorded
        failure = error
    except OSError as error:  # a capture or the trace could not be written (disk full): keep the rest
        outputs.failed(error, note=f"the run stopped at {format_duration(sim.now)}")
    finally:
        outputs.attempt(sim.close)
    result = sim.result()
    from .report.text import render_run_output

    click.echo(render_run_output(result, quiet), nl=False)
    if json_file:
        outputs.attempt(result.to_json, json_file, option="--json")
    _write_extras(outputs, result, plot_dir, csv_dir)
    if failure is not None:
        click.echo(str(failure), err=True)
    for line in outputs.errors:
        click.echo(line, err=True)
    if failure is not None or outputs.errors:
        sys.exit(EXIT_BAD_INPUT)
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if result.ok else EXIT_EXPECTATION_FAILED)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Stop at the first failing command.")
@click.option("--explain", is_flag=True,
              help="First print what each host runs at time 0: its tunnels: expanded, then its run: block.")
@click.option("--duration", callback=_duration, help="Check against this duration instead of the scenario's.")
@_guarded
def check(scenario, strict, explain, duration):
    """Validate SCENARIO: run its run: blocks, then its timeline with no traffic, listing every error."""
    from . import simulation

    if explain:
        from .scenario import explain as explain_scenario, load_scenario

        click.echo(explain_scenario(load_scenario(_existing(scenario))))
    sim = simulation.load(_existing(scenario), strict=strict, duration=duration, traffic=False)
    for warning in sim.warnings:
        click.echo(warning, err=True)
    try:
        sim.check_timeline()
    finally:
        sim.close()
    errors = sim.network.command_errors
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        sys.exit(EXIT_BAD_INPUT)
    scn = sim.scenario
    tunnels = f"{len(scn.tunnels)} tunnels, " if scn.tunnels else ""
    click.echo(f"{scenario}: ok ({len(sim.hosts)} hosts, {len(scn.links)} links, {tunnels}"
               f"{len(scn.traffic)} traffic, {len(scn.timeline)} timeline events, {len(scn.expect)} expectations)")


@main.command()
@click.argument("run_json", type=click.Path(dir_okay=False))
@click.option("--plot", "plot_dir", type=click.Path(), help="Write the plots into DIR, as PNG and SVG.")
@click.option("--csv", "csv_dir", type=click.Path(), help="Write flows, time series and events as CSV into DIR.")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@_guarded
def report(run_json, plot_dir, csv_dir, quiet):
    """Print what 'ipsecsim run' printed for a run saved with --json; write its plots or CSV."""
    from .report import Result, ResultFormatError
    from .report.text import render_run_output

    path = _existing(run_json, "results")
    outputs = RunOutputs(path, source="results file", plot=plot_dir, csv=csv_dir)
    problem = outputs.problem() or outputs.make_directories()
    if problem:
        click.echo(problem, err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        result = Result.from_json(path)
    except ResultFormatError as error:
        click.echo(f"{run_json}: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (ValueError, TypeError, KeyError) as error:
        click.echo(f"{run_json}: not a results file written by 'ipsecsim run --json' ({error})", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(render_run_output(result, quiet), nl=False)
    _write_extras(outputs, result, plot_dir, csv_dir)
    for line in outputs.errors:
        click.echo(line, err=True)
    if outputs.errors:
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_OK if result.ok else EXIT_EXPECTATION_FAILED)


def _write_extras(outputs: RunOutputs, result, plot_dir, csv_dir) -> None:
    """The files made from a result after the fact: plots and CSV tables."""
    if plot_dir:
        from .report.plots import write_plots

        outputs.attempt(write_plots, result, plot_dir, option="--plot")
    if csv_dir:
        from .report.export import write_csv

        outputs.attempt(write_csv, result, csv_dir, option="--csv")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@_guarded
def shell(scenario):
    """An interactive prompt on the hosts of SCENARIO (after their run: blocks).

    Type commands at HOST# (e.g. ``ifconfig em0``); ``use HOST`` switches host,
    ``advance 2s`` moves the clock, ``exit`` leaves.
    """
    from . import simulation

    sim = simulation.load(_existing(scenario))
    current = sim.hosts[0]
    while True:
        try:
            line = input(f"{current}# ").strip()
        except EOFError:
            break
        if line in ("exit", "quit"):
            break
        if line.startswith("use "):
            name = line[4:].strip()
            if name in sim.hosts:
                current = name
            else:
                click.echo(f"no host {name}; hosts: {', '.join(sim.hosts)}")
            continue
        if line.startswith("advance "):
            try:
                sim.run(sim.now + parse_duration(line[8:].strip()))
                click.echo(f"time is now {sim.now:g}s")
            except UnitError as error:
                click.echo(str(error))
            continue
        if line:
            click.echo(sim.host(current).sh(line), nl=False)
    sim.close()


def _existing(path: str, what: str = "scenario") -> Path:
    p = Path(path)
    if not p.is_file():
        click.echo(f"{path}: no such {what} file", err=True)
        sys.exit(EXIT_BAD_INPUT)
    return p


# -- whatif ------------------------------------------------------------------------------------


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--fail", "fail", multiple=True, metavar="LINK|HOST",
              help="Fail this link (named as the scenario names it, A:em0-B:em0) or host; repeat to fail "
                   "several at once.")
@click.option("--each-link", is_flag=True, help="Fail each link in turn, alone.")
@click.option("--each-host", is_flag=True, help="Power off each host in turn, alone.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Write the answer as JSON.")
@click.option("--quiet", is_flag=True, help="Leave out the paths without failures and the failures that change nothing.")
@_guarded
def whatif(scenario, fail, each_link, each_host, json_file, quiet):
    """Where SCENARIO's pings, flows and tunnels go, and what failures do to them, without packets.

    The network is built at time 0 (run: blocks, frr: configs) and routed as it would be once
    OSPF has converged; see docs/whatif.md.
    """
    from .scenario import load_scenario
    from .scenario.build import build_network
    from .whatif import Failure, analyse, model_from_network, parse_failures
    from .whatif.analysis import FailureError
    from .whatif.render import render_text, write_json

    loaded = load_scenario(_existing(scenario))
    net = build_network(loaded, traffic=False)
    for error in net.command_errors:
        click.echo(str(error), err=True)
    model = model_from_network(net, loaded)
    failures = []
    try:
        if fail:
            failures.append(parse_failures(model, list(fail)))
    except FailureError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_BAD_INPUT)
    if each_link:
        failures += [Failure(links=(name,)) for name in sorted(model.links)]
    if each_host:
        failures += [Failure(hosts=(name,)) for name in sorted(model.hosts)]
    answer = analyse(model, failures)
    click.echo(render_text(answer, quiet=quiet), nl=False)
    if json_file:
        try:
            write_json(answer, json_file)
        except OSError as error:
            click.echo(f"--json {json_file}: {error.strerror or error}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    sys.exit(EXIT_OK)


# -- sweep --------------------------------------------------------------------------------------


@main.command()
@click.argument("sweep_file", metavar="SWEEP", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Write the table, plots and runs into DIR (default: beside SWEEP, named after the sweep).")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on this Dask scheduler, e.g. tcp://host:8786.")
@click.option("--workers", metavar="N", type=click.IntRange(min=1), help="Local processes (default: one per core; 1: in this process).")
@click.option("--quiet", is_flag=True, help="No progress bar, no list of files.")
@_guarded
def sweep(sweep_file, out_dir, dask_address, workers, quiet):
    """Run SWEEP's scenario at every point of its grid; write points.csv, points.json and plots."""
    from .sweep import SweepOptionError, run_sweep

    path = _existing(sweep_file, "sweep")
    try:
        outcome = run_sweep(path, out=out_dir, dask=dask_address, workers=workers, progress=False if quiet else None)
    except SweepOptionError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_BAD_INPUT)
    for point in outcome.failed:
        values = ", ".join(f"{k}={v}" for k, v in point.items() if k in outcome.grid)
        click.echo(f"{path}: point {point['point']} ({values}) failed: {point['error']}", err=True)
    done = len(outcome.points) - len(outcome.failed)
    click.echo(f"{outcome.name}: {len(outcome.points)} points, {done} ok, {len(outcome.failed)} failed "
               f"({outcome.ran} run now, {outcome.reused} from earlier runs)")
    if not quiet:
        for written in outcome.files:
            click.echo(f"  {written}")
    sys.exit(EXIT_OK if outcome.ok else EXIT_EXPECTATION_FAILED)


if __name__ == "__main__":
    main()
