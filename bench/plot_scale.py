"""Plots of the scale run (`python3 bench/sv_bench.py scale --json F`): each
cost against the number of programs, ours and Supervisor 4.3.0, with the
physical baseline of the same run where there is one, log-log, written as
PNGs into docs/images/scale-*.png for docs/performance.md.

    python3 bench/plot_scale.py /tmp/scale.json [more.json ...] [--before before.json ...]
    python3 bench/plot_scale.py /tmp/scale.json --before b.json --tables   # markdown

Several run files are merged (a later one adds sizes and daemons: e.g.
Supervisor's figures from a run of its own). `--tables` prints one markdown
table per figure instead of drawing (docs/performance.md).

`--before` adds the figures of another run of ours (e.g. the commit before
issue 19) as a dashed line. A phase that ran past its deadline is drawn at
the deadline with an upward triangle ("more than this"). Needs matplotlib:
on first use it is installed into a venv under target/bench-venv and this
script re-runs itself there.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(ROOT, "target", "bench-venv")

# (file, title, [(metric, panel title, unit)])
FIGURES = [
    ("scale-start", "Starting N programs", [
        ("boot_s", "launch → all RUNNING", "s"),
        ("startall_s", "startAllProcesses", "s"),
        ("rpc_s", "launch → first RPC answered", "s"),
        ("load_s", "config load (launch → `started` logged)", "s"),
    ]),
    ("scale-stop", "Stopping N programs", [
        ("stopall_s", "stopAllProcesses", "s"),
        ("shutdown_s", "SIGTERM → exit, children gone", "s"),
    ]),
    ("scale-memory", "Memory and idle CPU", [
        ("rss_mb", "RSS, all RUNNING", "MB"),
        ("conf_rss_mb", "RSS, configured, none running", "MB"),
        ("idle_cpu_s", "CPU over the idle window", "s"),
    ]),
    ("scale-status", "Reading the status of N programs", [
        ("gapi_cpu_ms", "getAllProcessInfo: daemon CPU per call", "ms"),
        ("gapi_s", "getAllProcessInfo: wall per call", "s"),
        ("ctl_s_our-ctl", "our `supervisorctl status`", "s"),
        ("ctl_s_ref-ctl", "Supervisor's `supervisorctl status`", "s"),
    ]),
    ("scale-web", "The web page", [
        ("web_paint_s", "GET / (first paint)", "s"),
        ("web_rows_per_s", "rows updated live per second (startAll)", "rows/s"),
        ("web_lag_s", "last RUNNING shown after startAll answered", "s"),
    ]),
]
STYLE = {
    "ours": dict(color="#1f77b4", marker="o", label="supervisor-rs"),
    "before": dict(color="#1f77b4", marker="o", linestyle="--", alpha=0.55,
                   label="supervisor-rs before"),
    "reference": dict(color="#d62728", marker="s", label="Supervisor 4.3.0"),
    "baseline": dict(color="#2ca02c", marker="^", linestyle=":", label="fork+exec (bench/forkexec.c)"),
    "vfork": dict(color="#9467bd", marker="v", linestyle=":", label="vfork+exec"),
    "posix_spawn": dict(color="#8c564b", marker="D", linestyle=":", label="posix_spawn"),
}
# Panels on a linear y axis (their 0 is a figure, not a missing one).
LINEAR_PANELS = ("idle_cpu_s",)
# Panels that show the other two ways of starting N children too.
SPAWN_PANELS = ("boot_s", "startall_s")


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit("plot_scale: matplotlib is missing from %s" % VENV)
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    check = subprocess.run([python, "-c", "import matplotlib"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "matplotlib"], check=True)
    os.execv(python, [python] + sys.argv)


def series(results, metric):
    """[(n, value, capped)] sorted by n, medians over the samples."""
    points = []
    for n, samples in results.items():
        vals = [s[metric] for s in samples if s.get(metric) is not None]
        caps = [s[metric + "_capped"] for s in samples if s.get(metric + "_capped") is not None]
        if caps:
            points.append((int(n), max(caps), True))
        elif vals:
            points.append((int(n), statistics.median(vals), False))
    return sorted(points)


def draw(ax, points, style, zero_ok=False):
    # A 0 is below the measurement's resolution (CPU ticks of 10 ms): not
    # drawn on a log axis; idle CPU, where 0 is the point, gets a linear one.
    points = [p for p in points if p[1] > 0 or zero_ok]
    if not points:
        return
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    line_style = {k: v for k, v in style.items() if k != "marker"}
    ax.plot(xs, ys, **line_style)
    for x, y, capped in zip(xs, ys, (p[2] for p in points)):
        ax.plot([x], [y], marker="^" if capped else style["marker"], color=style["color"],
                markersize=10 if capped else 6, alpha=style.get("alpha", 1),
                markerfacecolor="none" if capped else style["color"])
        if capped:
            ax.annotate("> %g" % y, (x, y), textcoords="offset points", xytext=(6, 4),
                        fontsize=8, color=style["color"])


def plot(run, befores, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, title, panels in FIGURES:
        cols = 2
        rows = (len(panels) + 1) // 2
        fig, axes = plt.subplots(rows, cols, figsize=(11, 4.2 * rows), squeeze=False)
        for ax, (metric, panel, unit) in zip(axes.flat, panels):
            linear = metric in LINEAR_PANELS
            for before in befores:
                draw(ax, series(before["results"]["ours"], metric), STYLE["before"], linear)
            for key in ("ours", "reference", "baseline"):
                draw(ax, series(run["results"][key], metric), STYLE[key], linear)
            if metric in SPAWN_PANELS:
                if metric != "startall_s":  # drawn above
                    draw(ax, series(run["results"]["baseline"], "startall_s"), STYLE["baseline"])
                for mode in ("vfork", "posix_spawn"):
                    draw(ax, series(run["results"]["baseline"], mode + "_start_s"), STYLE[mode])
            ax.set_xscale("log")
            ax.set_yscale("linear" if linear else "log")
            ax.set_title(panel, fontsize=10)
            ax.set_xlabel("programs")
            ax.set_ylabel(unit)
            ax.set_xticks(run["sizes"])
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.grid(True, which="both", alpha=0.3)
        for ax in list(axes.flat)[len(panels):]:
            ax.axis("off")
        keys = ((["before"] if befores else []) + ["ours", "reference", "baseline"]
                + (["vfork", "posix_spawn"] if any(p[0] in SPAWN_PANELS for p in panels) else []))
        handles = [plt.Line2D([], [], **STYLE[k]) for k in keys]
        handles.append(plt.Line2D([], [], marker="^", color="grey", markerfacecolor="none",
                                  linestyle="none", markersize=10, label="past the deadline"))
        fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), fontsize=9)
        fig.suptitle("%s — %s" % (title, run.get("label") or "scale run"), fontsize=12)
        fig.tight_layout(rect=(0, 0.09, 1, 0.96))
        path = os.path.join(out_dir, name + ".png")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written


def merge(paths):
    """One run from several files: results merged by daemon and size."""
    run = {"sizes": set(), "results": {"ours": {}, "reference": {}, "baseline": {}}, "label": ""}
    for path in paths:
        with open(path) as f:
            part = json.load(f)
        run["sizes"].update(part["sizes"])
        run["label"] = run["label"] or part.get("label", "")
        for impl, by_size in part["results"].items():
            run["results"][impl].update(by_size)
    run["sizes"] = sorted(run["sizes"])
    return run


def tables(run, before):
    """One markdown table per figure: a row per metric and size."""
    def value(results, metric, n):
        for x, v, capped in series(results, metric):
            if x == n:
                return ("> %g" % v) if capped else ("%.3g" % v if v < 1000 else "%.0f" % v)
        return "—"
    for name, title, panels in FIGURES:
        print("\n**%s** (`docs/images/%s.png`)\n" % (title, name))
        print("| figure | N | ours before | ours | Supervisor 4.3.0 | fork+exec | vfork | posix_spawn |")
        print("|---|---|---|---|---|---|---|---|")
        for metric, panel, unit in panels:
            for n in run["sizes"]:
                cells = [value(before["results"]["ours"], metric, n) if before else "—",
                         value(run["results"]["ours"], metric, n),
                         value(run["results"]["reference"], metric, n)]
                base = run["results"]["baseline"]
                if metric in SPAWN_PANELS or metric == "stopall_s":
                    fork = "stopall_s" if metric == "stopall_s" else "startall_s"
                    cells += [value(base, fork, n)] + [
                        value(base, m + "_start_s", n) if metric != "stopall_s" else "—"
                        for m in ("vfork", "posix_spawn")]
                else:
                    cells += ["—"] * 3
                print("| %s (%s) | %d | %s |" % (panel, unit, n, " | ".join(cells)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json", nargs="+", help="the scale run(s) (sv_bench.py scale --json)")
    parser.add_argument("--before", action="append", default=[],
                        help="another run of ours to draw dashed (repeatable; merged)")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "images"))
    parser.add_argument("--tables", action="store_true", help="print markdown tables, draw nothing")
    args = parser.parse_args()
    run = merge(args.json)
    before = merge(args.before) if args.before else None
    if args.tables:
        tables(run, before)
        return
    ensure_matplotlib()
    for path in plot(run, [before] if before else [], args.out):
        print(path)


if __name__ == "__main__":
    main()
