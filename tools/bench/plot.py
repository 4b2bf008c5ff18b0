#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Draw the curves of `make bench` from its serial log, as an SVG.

kvm_memattr_bench (tools/bench/kvm_memattr_bench.c) prints, after its tables:

    #plot unit instructions|ns
    #plot set PAGES UPSTREAM|- MODULE     one KVM_SET_MEMORY_ATTRIBUTES
    #plot fault RUNS UPSTREAM MODULE      one guest page fault, RUNS elsewhere
    #plot drift UPSTREAM UPSTREAM_AGAIN   the upstream fault, measured twice
    #plot subpage_write MODE COST EXITS   sub-page costs, kept in the data
    #plot subpage_set MODE RANGE PAGES COST   for scripts but not drawn

They are found anywhere in a line of the log, whatever the serial console
put before them.  The SVG has two panels: the cost of a SET against its
pages (log-log), and the cost of a fault against the runs set elsewhere in
the VM (log x, with 0 at the left), with upstream's cost +1% and +3%, the
targets, for reference.  Python's standard library only.

usage: plot.py LOG [SVG]    (SVG: LOG with the suffix .svg)
"""
import math
import re
import sys
from collections import namedtuple
from pathlib import Path
from xml.sax.saxutils import escape

PLOT_LINE = re.compile(r"#plot\s+(\w+)\s+(.*)")
HEADER_LINE = re.compile(r"=== kvm-memattr benchmarks: (.*)")
WIDTH, HEIGHT = 1000, 420
UPSTREAM, MODULE, TARGET, AXIS = "#1f77b4", "#d62728", "#888888", "#333333"
TARGETS = (1, 3)        # percent over upstream's fault cost
FIELDS = {"set": 3, "fault": 3, "drift": 2}     # values of each record
# Records kept but not drawn: (words, values); a value may be "-" (not
# measured: the CPU has no sub-page hardware mode).
KEPT = {"subpage_write": (1, 2), "subpage_set": (2, 2)}
FONT = 'font-family="sans-serif"'

Box = namedtuple("Box", "left top right bottom")
Series = namedtuple("Series", "name color points dashed")


class Scale:
    """Maps [lo, hi] to pixels [start, end], linearly or in log10."""

    def __init__(self, lo, hi, start, end, log=False):
        self.log = log
        self.lo, self.hi = self._axis(lo), self._axis(hi)
        if self.hi == self.lo:
            self.lo, self.hi = self.lo - 1, self.hi + 1
        self.start, self.end = start, end

    def _axis(self, value):
        return math.log10(value) if self.log else value

    def __call__(self, value):
        fraction = (self._axis(value) - self.lo) / (self.hi - self.lo)
        return self.start + fraction * (self.end - self.start)


def parse_log(path):
    """The #plot records and the benchmark's header line of the log."""
    data = {"unit": "?", "set": [], "fault": [], "drift": None, "header": ""}
    data.update((kind, []) for kind in KEPT)
    with open(path, errors="replace") as log:
        for line in log:
            header = HEADER_LINE.search(line)
            if header:
                data["header"] = header.group(1).strip()
            match = PLOT_LINE.search(line)
            if match:
                add_record(data, match.group(1), match.group(2).split(), line)
    return data


def add_record(data, kind, words, line):
    """Add one #plot record to data; warn about a garbled one."""
    if kind == "unit" and words:
        data["unit"] = words[0]
        return
    if kind in KEPT:
        add_kept_record(data, kind, words, line)
        return
    try:
        values = tuple(number(word) for word in words[:FIELDS[kind]])
    except (KeyError, ValueError):
        values = ()
    # Only upstream's SET cost may be missing ("-").
    if len(values) != FIELDS.get(kind) or any(
            value is None for i, value in enumerate(values)
            if (kind, i) != ("set", 1)):
        print(f"plot.py: ignored garbled line: {line.strip()}",
              file=sys.stderr)
    elif kind == "drift":
        data["drift"] = values
    else:
        data[kind].append(values)


def add_kept_record(data, kind, words, line):
    """Add a record that is not drawn: its words, then its values."""
    nwords, nvalues = KEPT[kind]
    try:
        if len(words) < nwords + nvalues:
            raise ValueError(kind)
        values = tuple(number(word) for word in words[nwords:nwords + nvalues])
    except ValueError:
        print(f"plot.py: ignored garbled line: {line.strip()}",
              file=sys.stderr)
        return
    data[kind].append(tuple(words[:nwords]) + values)


def number(word):
    """A value of a #plot record: None for '-' (not measured)."""
    return None if word == "-" else float(word)


def count(value):
    """A rounded value with thousands separators."""
    return f"{value:,.0f}"


def power(base, exponent):
    """SVG text for base^exponent, the exponent raised."""
    return f'{base}<tspan dy="-6" font-size="9">{exponent}</tspan>'


def text(x, y, body, size=11, anchor="middle", extra=""):
    """An SVG text element; body is SVG markup (escape plain text first)."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" '
            f'text-anchor="{anchor}" {FONT} {extra}>{body}</text>')


def line(x1, y1, x2, y2, color=AXIS, extra=""):
    """An SVG line."""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{color}" {extra}/>')


def decades(lo, hi):
    """The powers of ten that cover [lo, hi]."""
    return range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)


def nice_ticks(lo, hi, wanted=5):
    """About wanted round values (1, 2 or 5 times 10^k) in [lo, hi]."""
    raw = (hi - lo) / wanted
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step)
    return [i * step for i in range(first, math.floor(hi / step) + 1)]


def draw_axes(box, title, xticks, yticks, labels):
    """Frame, grid, tick labels and titles of a panel.

    xticks and yticks are (pixel, SVG label) pairs; labels is the pair of
    axis titles (x, y).
    """
    out = [f'<rect x="{box.left}" y="{box.top}" '
           f'width="{box.right - box.left}" height="{box.bottom - box.top}" '
           f'fill="none" stroke="{AXIS}"/>',
           text((box.left + box.right) / 2, box.top - 12, escape(title), 13,
                extra='font-weight="bold"')]
    for x, label in xticks:
        out.append(line(x, box.top, x, box.bottom, "#e4e4e4"))
        out.append(line(x, box.bottom, x, box.bottom + 5))
        out.append(text(x, box.bottom + 19, label))
    for y, label in yticks:
        out.append(line(box.left, y, box.right, y, "#e4e4e4"))
        out.append(line(box.left - 5, y, box.left, y))
        out.append(text(box.left - 8, y + 4, label, anchor="end"))
    out.append(text((box.left + box.right) / 2, box.bottom + 42,
                    escape(labels[0])))
    middle = (box.top + box.bottom) / 2
    out.append(text(box.left - 68, middle, escape(labels[1]),
                    extra=f'transform="rotate(-90 {box.left - 68} {middle})"'))
    return out


def draw_series(series, xscale, yscale):
    """A polyline through the points of series, dashed or with dots."""
    points = [(xscale(x), yscale(y)) for x, y in series.points]
    dash = 'stroke-dasharray="6 4"' if series.dashed else ""
    out = ['<polyline fill="none" stroke-width="2" '
           f'stroke="{series.color}" {dash} points="'
           + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>']
    if not series.dashed:
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" '
                f'fill="{series.color}"/>' for x, y in points]
    return out


def draw_legend(box, series):
    """One row under the panel: a stroke and the name of each series."""
    out, x, y = [], box.left, box.bottom + 64
    for one in series:
        dash = 'stroke-dasharray="6 4"' if one.dashed else ""
        out.append(line(x, y - 4, x + 24, y - 4, one.color,
                        f'stroke-width="2" {dash}'))
        out.append(text(x + 30, y, escape(one.name), anchor="start"))
        x += 44 + 6.5 * len(one.name)
    return out


def set_panel(data, box):
    """SET cost against pages, log-log, upstream and the module."""
    records = data["set"]
    series = [
        Series("upstream", UPSTREAM,
               [(p, up) for p, up, _ in records if up is not None], False),
        Series("kvm_memattr", MODULE, [(p, mod) for p, _, mod in records],
               False),
    ]
    pages = [p for p, _, _ in records]
    costs = [y for one in series for _, y in one.points]
    xscale = Scale(min(pages) / 1.5, max(pages) * 1.5, box.left, box.right,
                   log=True)
    ylo, yhi = min(costs) / 1.5, max(costs) * 1.5
    yscale = Scale(ylo, yhi, box.bottom, box.top, log=True)
    orders = range(round(math.log2(min(pages))),
                   round(math.log2(max(pages))) + 1)
    xticks = [(xscale(2 ** k), power(2, k))
              for k in orders[::max(1, math.ceil(len(orders) / 7))]]
    yticks = [(yscale(10 ** k), power(10, k)) for k in decades(ylo, yhi)
              if ylo <= 10 ** k <= yhi]
    out = draw_axes(box, "KVM_SET_MEMORY_ATTRIBUTES, one call", xticks, yticks,
                    ("pages", f"{data['unit']} per call (log)"))
    for one in series:
        out += draw_series(one, xscale, yscale)
    return out + draw_legend(box, series)


def runs_position(runs, smallest):
    """Log10 of runs; 0 one decade left of the smallest positive count."""
    return math.log10(runs) if runs > 0 else math.log10(smallest) - 1


def fault_series(records):
    """Upstream, the module and the target lines of the fault panel."""
    series = [
        Series("upstream", UPSTREAM, [(r, up) for r, up, _ in records], False),
        Series("kvm_memattr", MODULE, [(r, mod) for r, _, mod in records],
               False),
    ]
    for percent in TARGETS:
        series.append(Series(f"+{percent}%", TARGET,
                             [(r, up * (1 + percent / 100))
                              for r, up, _ in records], True))
    return series


def fault_panel(data, box):
    """Fault cost against runs set elsewhere: log x with 0, linear y."""
    records = data["fault"]
    series = fault_series(records)
    smallest = min([r for r, _, _ in records if r > 0] or [1])
    positions = [runs_position(r, smallest) for r, _, _ in records]
    xscale = Scale(min(positions) - 0.3, max(positions) + 0.3, box.left,
                   box.right)
    costs = [y for one in series for _, y in one.points]
    margin = max(max(costs) - min(costs), max(costs) / 100) * 0.1
    yscale = Scale(min(costs) - margin, max(costs) + margin, box.bottom,
                   box.top)
    xticks = [(xscale(p), escape(count(r))) for p, (r, _, _)
              in zip(positions, records)]
    yticks = [(yscale(v), count(v)) for v in
              nice_ticks(min(costs) - margin, max(costs) + margin)]
    out = draw_axes(box, "Guest page fault", xticks, yticks,
                    ("one-page runs set elsewhere in the VM (log, 0 apart)",
                     f"{data['unit']} per fault"))
    out += draw_axis_break(box, xscale, positions, smallest)
    for one in series:
        placed = one._replace(points=[(runs_position(r, smallest), y)
                                      for r, y in one.points])
        out += draw_series(placed, xscale, yscale)
    for one in series[2:]:
        out.append(draw_target_label(one, xscale, yscale, smallest))
    targets = ", ".join(one.name for one in series[2:])
    return out + draw_legend(box, series[:2] + [
        Series(f"{targets}: targets", TARGET, [], True)])


def draw_target_label(series, xscale, yscale, smallest):
    """The name of a target line at its right end: the lowest line's a bit
    lower, the others' a bit higher, for lines close together."""
    runs, cost = series.points[-1]
    lowest = series.name == f"+{TARGETS[0]}%"
    y = yscale(cost) + (7 if lowest else 1)
    return text(xscale(runs_position(runs, smallest)) + 4, y,
                escape(series.name), 10, "start", f'fill="{TARGET}"')


def draw_axis_break(box, xscale, positions, smallest):
    """Two slashes on the x axis between 0 and the first positive count."""
    if min(positions) >= math.log10(smallest):
        return []
    x = xscale(math.log10(smallest) - 0.5)
    return [line(x + dx - 3, box.bottom + 5, x + dx + 3, box.bottom - 5,
                 AXIS, 'stroke-width="1.5"') for dx in (-3, 3)]


def subtitle(data):
    """The benchmark's header line and the drift of upstream's fault cost."""
    parts = [data["header"]] if data["header"] else []
    if data["drift"]:
        first, again = data["drift"]
        parts.append(f"upstream fault cost measured twice: {count(first)} "
                     f"and {count(again)} ({again - first:+,.0f})")
    return "; ".join(parts)


def render(data):
    """The whole SVG document."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
           f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           text(WIDTH / 2, 26, escape("kvm-memattr against upstream KVM, cost "
                                      f"in {data['unit']}"), 16,
                extra='font-weight="bold"'),
           text(WIDTH / 2, 46, escape(subtitle(data)), 11)]
    out += set_panel(data, Box(95, 90, 465, 340))
    out += fault_panel(data, Box(605, 90, 975, 340))
    return "\n".join(out + ["</svg>\n"])


def main(argv):
    """Read the log named by argv[1], write the SVG; 0 on success."""
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    log = Path(argv[1])
    svg = Path(argv[2]) if len(argv) == 3 else log.with_suffix(".svg")
    data = parse_log(log)
    if not data["set"] or not data["fault"]:
        print(f"plot.py: no '#plot set' or '#plot fault' lines in {log}",
              file=sys.stderr)
        return 1
    svg.write_text(render(data))
    print(f"plot.py: wrote {svg}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
