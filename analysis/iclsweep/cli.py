"""The `iclsweep-analyze` command (also `python3 -m iclsweep.cli`): table, phase, curves,
threshold, refine, report, explore and adapt over iclsweep result files. Each subcommand calls the
function of the same name; every one takes -o PATH (default: beside the first file, named after
it, the command and its choices), prints how complete the data is and where it wrote.

Only commands that draw load matplotlib (table, refine and threshold --no-figure do not), so a
table on a cluster's login node starts fast.

Exit codes: 0 done; 2 bad usage or input (not an iclsweep file, unknown axis or metric, ...):
one line naming the file and what is wrong; adapt: 3 when the budget ran out before every interval
was narrow enough. Everything printed passes through contain.SafeStream: names and values from a
file reach the terminal escaped. A finished row failing its checksum is no result: the command
says which rows, and goes on without them."""
from __future__ import annotations

import argparse
import os
import sys
import warnings

from . import contain, reader, theory


def _level(text):
    return None if text in (None, "none") else float(text)


def _common(p, many=True, where=True):
    p.add_argument("files", nargs="+" if many else 1, metavar="FILE.h5",
                   help="result file(s); several files (shards, extended sweeps) combine by "
                        "task identity")
    p.add_argument("-o", "--output", metavar="PATH", help="where to write (default: beside the "
                   "first file, named after it and the command's choices)")
    if where:
        p.add_argument("--where", action="append", metavar="AXIS=V", default=[],
                       help="keep only tasks with this value (repeatable); axes neither plotted "
                            "nor fixed are pooled, and the output says over what")


def _facets(p):
    p.add_argument("--col", metavar="AXIS", help="one column of panels per value of AXIS")
    p.add_argument("--row", metavar="AXIS", help="one row of panels per value of AXIS")


def _parser():
    ap = argparse.ArgumentParser(
        prog="iclsweep-analyze",
        description="Tables, phase diagrams, learning curves, thresholds, refined sweeps, reports, "
                    "an interactive explorer and adaptive boundary mapping from iclsweep result "
                    "files (format iclsweep/3).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("table", help="final metrics per group: n, mean, std, sem, 95%% CIs "
                                     "(bootstrap, t), min, max; CSV (or LaTeX, Markdown) + "
                                     "terminal")
    _common(p)
    p.add_argument("--by", nargs="+", metavar="AXIS", help="group by these parameters "
                   "(default: the grid's axes, i.e. statistics over replicates)")
    p.add_argument("--metric", nargs="+", metavar="M", help="metrics (default: the file's "
                   "headline metric; 'all' for every final metric)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--latex", action="store_true", help="write a LaTeX (booktabs) table (.tex)")
    g.add_argument("--markdown", action="store_true", help="write a Markdown table (.md)")

    p = sub.add_parser("phase", help="heatmap of a metric over two axes with the emergence "
                                     "boundary at --level and its bootstrap band, or a regime "
                                     "map of two metrics; PNG + PDF")
    _common(p)
    p.add_argument("--x", required=True, metavar="AXIS")
    p.add_argument("--y", required=True, metavar="AXIS")
    p.add_argument("--metric", metavar="M")
    p.add_argument("--level", metavar="V", help="draw the boundary where the mean crosses V")
    p.add_argument("--regime", metavar="M1:V1[:NAME1],M2:V2[:NAME2]",
                   help="a categorical map instead: each cell is NAME1, NAME2, both or neither "
                        "by whether the mean of M1 reaches V1 and of M2 reaches V2")
    _facets(p)
    p.add_argument("--xscale", choices=("auto", "log", "linear"), default="auto")
    p.add_argument("--yscale", choices=("auto", "log", "linear"), default="auto")
    p.add_argument("--no-theory", action="store_true", help="leave out theory lines")

    p = sub.add_parser("curves", help="a metric along training, one line per value of --color, "
                                      "mean with 95%% bootstrap band; PNG + PDF")
    _common(p)
    p.add_argument("--metric", metavar="M")
    p.add_argument("--color", required=True, metavar="AXIS")
    _facets(p)
    p.add_argument("--yscale", choices=("auto", "log", "linear"), default="auto")
    p.add_argument("--no-theory", action="store_true")

    for name, helptext in (("threshold", "where a metric crosses --level (or peaks) along an "
                                         "axis, per value of the other axes, with 95%% intervals "
                                         "(replicates and interpolation); CSV + PNG + PDF"),
                           ("refine", "the next round's sweep YAML: every point already run "
                                      "plus new values inside the crossing intervals")):
        p = sub.add_parser(name, help=helptext)
        _common(p)
        p.add_argument("--along", required=True, metavar="AXIS")
        p.add_argument("--metric", metavar="M")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--level", metavar="V")
        g.add_argument("--peak", action="store_true", help="the metric's largest interior "
                       "maximum instead")
        p.add_argument("--direction", choices=("any", "down", "up"), default="any",
                       help="first crossing going down, up or either way (default any)")
        if name == "threshold":
            _facets(p)
            p.add_argument("--yscale", choices=("auto", "log", "linear"), default="auto",
                           help="auto: log when the means are positive and span a decade")
            p.add_argument("--no-theory", action="store_true")
            p.add_argument("--no-figure", action="store_true", help="the CSV only")
        else:
            p.add_argument("--points", type=int, default=3, metavar="N",
                           help="new values per interval (default 3)")

    p = sub.add_parser("report", help="one self-contained HTML page: provenance, completion, "
                                      "table, phase diagrams, curves, failures")
    _common(p)
    p.add_argument("--metric", metavar="M")
    p.add_argument("--level", metavar="V")

    p = sub.add_parser("explore", help="one self-contained interactive HTML page: pick the "
                                       "metric, the phase axes and slices; hover a cell; see its "
                                       "trajectories")
    _common(p, where=False)

    p = sub.add_parser("adapt", help="locate a boundary to a tolerance: run the sweep, refine "
                                     "around each crossing, run again, until every interval is "
                                     "narrower than --tol or --budget tasks are spent")
    p.add_argument("sweep", metavar="SWEEP.yaml", help="the first round's sweep file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.h5",
                   help="the result file, grown round by round (a valid result file after each)")
    p.add_argument("--along", required=True, metavar="AXIS")
    p.add_argument("--metric", metavar="M")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--level", metavar="V")
    g.add_argument("--peak", action="store_true")
    p.add_argument("--direction", choices=("any", "down", "up"), default="any")
    p.add_argument("--tol", type=float, default=0.02, metavar="T",
                   help="stop when every interval is narrower than T times its location "
                        "(default 0.02)")
    p.add_argument("--budget", type=int, default=1000, metavar="N",
                   help="stop before the tasks in the file would exceed N (default 1000)")
    p.add_argument("--points", type=int, default=3, metavar="N",
                   help="new values per interval and round (default 3)")
    p.add_argument("--launcher", default="", metavar="CMD",
                   help="what starts `iclsweep run` (e.g. 'mpirun -np 3'; default: none, one "
                        "process; 'slurm' submits each round through slurm/submit and waits)")
    p.add_argument("--iclsweep", default=os.environ.get("ICLSWEEP_BIN", "iclsweep"),
                   metavar="PATH", help="the iclsweep program (default: $ICLSWEEP_BIN, else "
                   "iclsweep on PATH)")
    p.add_argument("--rounds", type=int, default=20, metavar="N", help="at most N rounds")
    return ap


def _wrote(paths):
    for path in paths:
        print(f"wrote {path}")


def _slug(text):
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in str(text))
    return keep.strip("_")


def default_output(files, command, *parts, where=(), ext):
    """<dir of the first file>/<its stem>_<command>_<parts>[_where...].<ext>: every choice that
    changes the output is in the name, so two runs with other choices never overwrite each
    other."""
    stem = os.path.splitext(reader.as_list(files)[0])[0]
    words = [command] + [str(p) for p in parts if p not in (None, "", False)]
    words += [f"where_{w}" for w in where]
    return "_".join([stem] + [_slug(w) for w in words]) + ("." + ext if ext else "")


def _level_part(args):
    if getattr(args, "peak", False):
        return "peak"
    return f"level{args.level}" if getattr(args, "level", None) is not None else ""


def _facet_parts(args):
    return [f"col_{args.col}" if getattr(args, "col", None) else "",
            f"row_{args.row}" if getattr(args, "row", None) else ""]


def _headline(meta, args):
    """Fills args.metric (and the level, where the command takes one and none was given) from the
    file's headline, saying so."""
    if getattr(args, "metric", None) is None:
        args.metric, level = theory.headline(meta)
        if getattr(args, "level", "absent") is None and not getattr(args, "peak", False) \
                and level is not None and args.command in ("threshold", "refine", "adapt"):
            args.level = repr(level)
        print(f"metric: {args.metric} (the file's headline)")


def _table(args, files, meta):
    from . import table as table_mod
    kind = "tex" if args.latex else "md" if args.markdown else None
    named = [] if isinstance(args.metric, str) else args.metric
    out = args.output or default_output(files, "table", *(args.by or []), *named,
                                        where=args.where, ext=kind or "csv")
    metrics = [args.metric] if isinstance(args.metric, str) else args.metric
    res = table_mod.table(files, by=args.by, metrics=metrics, where=args.where)
    table_mod.write(res, out, kind)
    print(table_mod.format_text(res))
    return [out]


def _phase(args, files, meta):
    from . import phase as phase_mod
    regime = phase_mod.parse_regime(args.regime) if args.regime else None
    what = ("regime_" + "_".join(r[0] for r in regime)) if regime else args.metric
    out = args.output or default_output(files, "phase", what, args.y, args.x, _level_part(args),
                                        *_facet_parts(args), where=args.where, ext="png")
    _, written = phase_mod.phase(files, x=args.x, y=args.y, metric=args.metric,
                                 where=args.where, level=_level(args.level), col=args.col,
                                 row=args.row, regime=regime, output=out,
                                 draw_theory=not args.no_theory, xscale=args.xscale,
                                 yscale=args.yscale)
    return written


def _curves(args, files, meta):
    from . import curves as curves_mod
    out = args.output or default_output(files, "curves", args.metric, args.color,
                                        *_facet_parts(args), where=args.where, ext="png")
    _, written = curves_mod.curves(files, metric=args.metric, color=args.color,
                                   where=args.where, col=args.col, row=args.row, output=out,
                                   draw_theory=not args.no_theory, yscale=args.yscale)
    return written


def _threshold(args, files, meta):
    from . import threshold as threshold_mod
    out = args.output or default_output(
        files, "threshold", args.metric, args.along, _level_part(args),
        "" if args.direction == "any" else args.direction, *_facet_parts(args),
        where=args.where, ext="csv")
    res, _, written = threshold_mod.threshold(
        files, along=args.along, metric=args.metric, level=_level(args.level), peak=args.peak,
        where=args.where, direction=args.direction, output=out, figure=not args.no_figure,
        col=args.col, row=args.row, draw_theory=not args.no_theory, yscale=args.yscale)
    print(threshold_mod.format_text(res))
    return written


def _refine(args, files, meta):
    from . import refine as refine_mod
    out = args.output or default_output(files, "refine", args.along, args.metric,
                                        _level_part(args), where=args.where, ext="yaml")
    text, _, _ = refine_mod.refine(files, along=args.along, metric=args.metric,
                                   level=_level(args.level), peak=args.peak, points=args.points,
                                   where=args.where, direction=args.direction, output=out)
    print("".join(l + "\n" for l in text.splitlines() if l.startswith("#")), end="")
    return [out]


def _report(args, files, meta):
    from . import report as report_mod
    out = args.output or default_output(files, "report", args.metric, _level_part(args),
                                        where=args.where, ext="")
    return [report_mod.report(files, output=out, metric=args.metric, level=_level(args.level),
                              where=args.where)]


def _explore(args, files, meta):
    from . import explore as explore_mod
    out = args.output or default_output(files, "explore", ext="html")
    return [explore_mod.explore(files, output=out)]


COMMANDS = {"table": _table, "phase": _phase, "curves": _curves, "threshold": _threshold,
            "refine": _refine, "report": _report, "explore": _explore}


def _adapt(args):
    from . import adapt as adapt_mod
    result = adapt_mod.adapt(args.sweep, output=args.output, along=args.along,
                             metric=args.metric, level=_level(args.level), peak=args.peak,
                             direction=args.direction, tol=args.tol, budget=args.budget,
                             points=args.points, launcher=args.launcher, program=args.iclsweep,
                             rounds=args.rounds, log=print)
    print(adapt_mod.format_text(result))
    _wrote([args.output] + result.written)
    return 0 if result.converged else 3


def run(args):
    if args.command == "adapt":
        return _adapt(args)
    files = args.files
    meta = reader.load(files, warn=False).attrs
    print(f"{', '.join(files)}: {meta['name']} ({meta['model']}), "
          f"{reader.completion_text(meta['counts'])}" +
          ("" if meta["complete"] else "; using the done tasks only"))
    for path, rows in meta["damaged_rows"].items():
        print(f"{path}: {len(rows)} finished row(s) fail their checksums (rows "
              f"{', '.join(str(r) for r in rows[:8])}{', ...' if len(rows) > 8 else ''}; iclsweep "
              f"verify names each): left out")
    if args.command != "explore" and not getattr(args, "regime", None):
        _headline(meta, args)
    _wrote(COMMANDS[args.command](args, files, meta))
    return 0


def main(argv=None):
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = contain.SafeStream(stdout), contain.SafeStream(stderr)
    try:
        args = _parser().parse_args(argv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", reader.IncompleteSweepWarning)
            warnings.simplefilter("ignore", reader.DamagedRowsWarning)
            return run(args)
    except (reader.NotAnIclsweepFile, reader.IncompatibleFiles, FileNotFoundError, KeyError,
            ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"iclsweep-analyze {args.command}: {msg}", file=sys.stderr)
        return 2
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = stdout, stderr


if __name__ == "__main__":
    sys.exit(main())
