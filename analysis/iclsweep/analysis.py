"""The `iclsweep-analyze` command (also `python3 -m iclsweep.analysis`): table, phase, curves,
threshold, refine and report over iclsweep result files. Each subcommand calls the function of
the same name; every one takes -o PATH (default: beside the first file, named after it and the
command), prints how complete the data is and where it wrote.

Exit codes: 0 done; 2 bad usage or input (not an iclsweep file, unknown axis or metric, ...)."""
from __future__ import annotations

import argparse
import sys
import warnings

from . import curves as curves_mod
from . import phase as phase_mod
from . import plotting, reader, theory
from . import refine as refine_mod
from . import report as report_mod
from . import table as table_mod
from . import threshold as threshold_mod


def _level(text):
    return None if text in (None, "none") else float(text)


def _common(p, many=True):
    p.add_argument("files", nargs="+" if many else 1, metavar="FILE.h5",
                   help="result file(s); several files (shards, extended sweeps) combine by "
                        "task identity")
    p.add_argument("-o", "--output", metavar="PATH", help="where to write (default: beside the "
                   "first file, named after it)")
    p.add_argument("--where", action="append", metavar="AXIS=V", default=[],
                   help="keep only tasks with this value (repeatable); other axes are pooled")


def _parser():
    ap = argparse.ArgumentParser(
        prog="iclsweep-analyze",
        description="Tables, phase diagrams, learning curves, thresholds, refined sweeps and "
                    "reports from iclsweep result files (format iclsweep/2).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("table", help="final metrics per group: n, mean, std, sem, 95%% CIs "
                                     "(bootstrap, t), min, max; CSV + terminal")
    _common(p)
    p.add_argument("--by", nargs="+", metavar="AXIS", help="group by these parameters "
                   "(default: the grid's axes, i.e. statistics over replicates)")
    p.add_argument("--metric", nargs="+", metavar="M", help="metrics (default: the model's "
                   "headline metric; 'all' for every final metric)")

    p = sub.add_parser("phase", help="heatmap of a metric over two axes with the emergence "
                                     "boundary at --level and its bootstrap band; PNG + PDF")
    _common(p)
    p.add_argument("--x", required=True, metavar="AXIS")
    p.add_argument("--y", required=True, metavar="AXIS")
    p.add_argument("--metric", metavar="M")
    p.add_argument("--level", metavar="V", help="draw the boundary where the mean crosses V")
    p.add_argument("--col", metavar="AXIS", help="one panel per value of AXIS")
    p.add_argument("--xscale", choices=("auto", "log", "linear"), default="auto")
    p.add_argument("--yscale", choices=("auto", "log", "linear"), default="auto")
    p.add_argument("--no-theory", action="store_true", help="leave out theory lines")

    p = sub.add_parser("curves", help="a metric along training, one line per value of --color, "
                                      "mean with 95%% bootstrap band; PNG + PDF")
    _common(p)
    p.add_argument("--metric", metavar="M")
    p.add_argument("--color", required=True, metavar="AXIS")
    p.add_argument("--yscale", choices=("auto", "log", "linear"), default="auto")
    p.add_argument("--no-theory", action="store_true")

    for name, helptext in (("threshold", "where a metric crosses --level (or peaks) along an "
                                         "axis, per value of the other axes, with bootstrap CIs; "
                                         "CSV + PNG + PDF"),
                           ("refine", "the next round's sweep YAML: every point already run "
                                      "plus new values inside the crossing intervals")):
        p = sub.add_parser(name, help=helptext)
        _common(p)
        p.add_argument("--along", required=True, metavar="AXIS")
        p.add_argument("--metric", metavar="M")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--level", metavar="V")
        g.add_argument("--peak", action="store_true", help="the metric's maximum instead")
        if name == "threshold":
            p.add_argument("--direction", choices=("any", "down", "up"), default="any",
                           help="first crossing going down, up or either way (default any)")
            p.add_argument("--yscale", choices=("auto", "log", "linear"), default="auto",
                           help="auto: log when the means are positive and span a decade")
            p.add_argument("--no-theory", action="store_true")
        else:
            p.add_argument("--points", type=int, default=3, metavar="N",
                           help="new values per interval (default 3)")

    p = sub.add_parser("report", help="one self-contained HTML page: provenance, completion, "
                                      "table, phase diagrams, curves, failures")
    _common(p)
    p.add_argument("--metric", metavar="M")
    p.add_argument("--level", metavar="V")
    return ap


def _wrote(paths):
    for path in paths:
        print(f"wrote {path}")


def run(args):
    files = args.files
    meta = reader.load(files, warn=False).attrs
    print(f"{', '.join(files)}: {meta['name']} ({meta['model']}), "
          f"{reader.completion_text(meta['counts'])}" +
          ("" if meta["complete"] else "; using the done tasks only"))
    out = args.output
    cmd = args.command
    if getattr(args, "metric", None) is None and cmd in ("phase", "curves", "threshold", "refine"):
        args.metric = theory.headline(meta)[0]
    if cmd == "table":
        out = out or plotting.default_output(files, "table", ext="csv")
        res = table_mod.table(files, by=args.by, metrics=args.metric, where=args.where,
                              output=out)
        print(table_mod.format_text(res))
        _wrote([out])
    elif cmd == "phase":
        name = plotting.default_output(files, "phase", args.metric or "", args.y, args.x,
                                       f"by_{args.col}" if args.col else "", ext="png")
        _, written = phase_mod.phase(files, x=args.x, y=args.y, metric=args.metric,
                                     where=args.where, level=_level(args.level), col=args.col,
                                     output=out or name, draw_theory=not args.no_theory,
                                     xscale=args.xscale, yscale=args.yscale)
        _wrote(written)
    elif cmd == "curves":
        name = plotting.default_output(files, "curves", args.metric or "", args.color, ext="png")
        _, written = curves_mod.curves(files, metric=args.metric, color=args.color,
                                       where=args.where, output=out or name,
                                       draw_theory=not args.no_theory, yscale=args.yscale)
        _wrote(written)
    elif cmd == "threshold":
        name = plotting.default_output(files, "threshold", args.metric or "", args.along,
                                       ext="csv")
        res, _, written = threshold_mod.threshold(
            files, along=args.along, metric=args.metric, level=_level(args.level),
            peak=args.peak, where=args.where, direction=args.direction, output=out or name,
            draw_theory=not args.no_theory, yscale=args.yscale)
        cols = [c for c in res.columns if c in res.attrs["others"]] + [
            "location", "ci_lo", "ci_hi", "boot_found", "n_tasks"]
        print(res[cols].to_string(index=False))
        _wrote(written)
    elif cmd == "refine":
        out = out or plotting.default_output(files, "refine", args.along, ext="yaml")
        text, new, found = refine_mod.refine(files, along=args.along, metric=args.metric,
                                             level=_level(args.level), peak=args.peak,
                                             points=args.points, where=args.where, output=out)
        print("".join(l + "\n" for l in text.splitlines() if l.startswith("#")), end="")
        _wrote([out])
    elif cmd == "report":
        out = out or plotting.default_output(files, "report", ext="")
        _wrote([report_mod.report(files, output=out, metric=args.metric,
                                  level=_level(args.level))])
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    if getattr(args, "where", None) and args.command == "report":
        print("iclsweep-analyze: report takes no --where", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", reader.IncompleteSweepWarning)
            return run(args)
    except (reader.NotAnIclsweepFile, reader.IncompatibleFiles, FileNotFoundError, KeyError,
            ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"iclsweep-analyze {args.command}: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
