"""Geometry of the HTML report's pictures: a process tree with its pipes, a histogram.

Layout only: coordinates and labels as frozen data, which the SVG templates draw (and
escape). A layered tree is simple enough to place by hand, and a layout library
(graphviz is a system binary; the Python ones pull in numpy) would be one more thing for
a student's laptop to install for a picture of five boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.results import FdRow, ProcessRow, Ref

BOX_W, BOX_H = 150, 44  # a process's box
GAP_X, LAYER_H = 40, 170  # between boxes; from one layer of processes to the next
PIPE_R = 24  # a pipe's circle
MARGIN = 24
LABEL_ROOM = 110  # beside the outermost boxes, for an fd's label
LEFT = MARGIN + LABEL_ROOM
MAX_PROCESSES = 40  # past this (a fork bomb) a picture says less than the table


@dataclass(frozen=True)
class Box:
    pid: int
    name: str
    state: str
    x: float  # top-left corner
    y: float
    hot: bool  # what the message is about


@dataclass(frozen=True)
class PipeNode:
    inode: int
    kind: str  # "pipe" or "fifo"
    x: float  # centre
    y: float
    hot: bool
    r: float = PIPE_R


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class End:
    """One fd of one process holding one end of a pipe: an arrow and its label."""

    pid: int
    fd: int
    end: str  # "read" or "write"
    inode: int
    line: Line  # drawn in the direction the bytes flow
    label_x: float
    label_y: float
    anchor: str  # the label's text-anchor: "start" right of the line, "end" left of it
    stray: bool  # what the message is about: the end that should have been closed


@dataclass(frozen=True)
class ProcessDiagram:
    width: float
    height: float
    boxes: tuple[Box, ...]
    tree: tuple[Line, ...]  # parent → child
    pipes: tuple[PipeNode, ...]
    ends: tuple[End, ...]


def _piped(fd: FdRow) -> bool:
    return fd.inode is not None and fd.end in ("read", "write")


def processes(rows: Sequence[ProcessRow], about: Sequence[Ref] = ()) -> ProcessDiagram | None:
    """The tree of `rows` (parent above child) with a node per pipe between its holders;
    None when there is nothing to draw or too much to draw well."""
    if not rows or len(rows) > MAX_PROCESSES:
        return None
    by_pid = {p.pid: p for p in rows}
    children: dict[int, list[int]] = {p.pid: [] for p in rows}
    roots = []
    for p in rows:
        if p.ppid in by_pid and p.ppid != p.pid:
            children[p.ppid].append(p.pid)
        else:
            roots.append(p.pid)
    depth: dict[int, int] = {}
    order: list[int] = []  # leaves left to right
    xs: dict[int, float] = {}

    def place(pid: int, d: int) -> float:
        depth[pid] = d
        kids = [k for k in children[pid] if k not in depth]
        if not kids:
            xs[pid] = len(order) * (BOX_W + GAP_X)
            order.append(pid)
        else:
            placed = [place(k, d + 1) for k in kids]
            xs[pid] = (placed[0] + placed[-1]) / 2
        return xs[pid]

    for r in roots:
        place(r, 0)
    for p in rows:  # a cycle of parents: place what is left as roots
        if p.pid not in depth:
            place(p.pid, 0)

    hot_pids = {r.pid for r in about if r.pid is not None and r.fd is None and r.inode is None}
    hot_fds = {(r.pid, r.fd) for r in about if r.pid is not None and r.fd is not None}
    hot_inodes = {r.inode for r in about if r.inode is not None and r.pid is None}

    def top(pid: int) -> float:
        return MARGIN + depth[pid] * LAYER_H

    boxes = tuple(
        Box(p.pid, p.name, p.state, LEFT + xs[p.pid], top(p.pid), p.pid in hot_pids) for p in rows
    )
    tree = tuple(
        Line(
            LEFT + xs[parent] + BOX_W / 2,
            top(parent) + BOX_H,
            LEFT + xs[kid] + BOX_W / 2,
            top(kid),
        )
        for parent, kids in children.items()
        for kid in kids
        if depth.get(kid) == depth[parent] + 1
    )
    # a pipe sits below the shallowest of its holders, at their mean x, apart from the others
    holders: dict[int, list[tuple[ProcessRow, FdRow]]] = {}
    kinds: dict[int, str] = {}
    for p in rows:
        for fd in p.fds:
            if _piped(fd):
                assert fd.inode is not None
                holders.setdefault(fd.inode, []).append((p, fd))
                kinds[fd.inode] = fd.kind
    centres: dict[int, tuple[float, float]] = {}
    layers: dict[int, list[tuple[float, int]]] = {}
    for inode, held in holders.items():
        d = min(depth[p.pid] for p, _ in held)
        mean = sum(xs[p.pid] for p, _ in held) / len(held)
        layers.setdefault(d, []).append((mean, inode))
    for d, items in layers.items():
        items.sort()
        last = -1e9
        for mean, inode in items:
            x = max(LEFT + mean + BOX_W / 2, last + 3 * PIPE_R + 30)
            centres[inode] = (x, MARGIN + d * LAYER_H + BOX_H + (LAYER_H - BOX_H) / 2)
            last = x
    pipes = tuple(
        PipeNode(i, kinds[i], *centres[i], i in hot_inodes)
        for i in sorted(holders, key=lambda i: centres[i])
    )
    # each process's ends spread along the side of its box that faces their pipes, so two
    # fds of one process on one pipe are two arrows; labels on the outer side of each
    sides: dict[tuple[int, bool], list[tuple[float, int, int, FdRow]]] = {}
    for inode, held in holders.items():
        cx, cy = centres[inode]
        for p, fd in held:
            below = top(p.pid) < cy
            sides.setdefault((p.pid, below), []).append((cx, fd.fd, inode, fd))
    ends = []
    for (pid, below), on_side in sides.items():
        on_side.sort(key=lambda t: (t[0], t[1]))
        m = len(on_side)
        for k, (cx, n_fd, inode, fd) in enumerate(on_side):
            cy = centres[inode][1]
            bx = LEFT + xs[pid] + BOX_W * (k + 1) / (m + 1)
            by = top(pid) + BOX_H if below else top(pid)
            dx, dy = cx - bx, cy - by
            n = max((dx * dx + dy * dy) ** 0.5, 1.0)
            px, py = cx - dx / n * (PIPE_R + 3), cy - dy / n * (PIPE_R + 3)  # on the circle
            line = Line(bx, by, px, py) if fd.end == "write" else Line(px, py, bx, by)
            stray = (pid, n_fd) in hot_fds
            if stray:  # its long label beside the middle of its arrow, on the outer side
                right = k >= m / 2 if m > 1 else dx >= 0
                lx, ly = bx + dx * 0.5 + (8 if right else -8), by + dy * 0.5 + 4
            else:  # "fd 3" right of its port: ports are far enough apart for a label each
                right = True
                lx, ly = bx + 3, by + 14 if below else by - 6
            ends.append(End(
                pid, n_fd, str(fd.end), inode, line, lx, ly,
                "start" if right else "end", stray,
            ))  # fmt: skip
    width = (
        LEFT
        + MARGIN
        + LABEL_ROOM
        + max(
            [
                len(order) * (BOX_W + GAP_X) - GAP_X,
                *(x + PIPE_R - LEFT for x, _ in centres.values()),
            ]
        )
    )
    height = MARGIN * 2 + max(depth.values()) * LAYER_H + BOX_H
    return ProcessDiagram(width, height, boxes, tree, pipes, tuple(ends))


@dataclass(frozen=True)
class Bar:
    low: float  # the bin's scores: low <= score < high (the last bin includes high)
    high: float
    count: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Histogram:
    width: float
    height: float
    bars: tuple[Bar, ...]
    base: float  # y of the axis
    ticks: tuple[tuple[float, str], ...]  # x, label
    mean_x: float | None
    median_x: float | None


def histogram(scores: Sequence[float], max_score: float, mean: float | None,
              median: float | None) -> Histogram:  # fmt: skip
    """Bars of how many students scored in each bin of 0..max_score."""
    width, height, left, bottom, top = 640.0, 250.0, 36.0, 30.0, 46.0
    top_score = max([max_score, *scores, 1.0])
    bins = int(top_score) if top_score <= 20 and top_score == int(top_score) else 10
    step = top_score / bins
    counts = [0] * bins
    for s in scores:
        counts[min(int(max(s, 0.0) / step), bins - 1)] += 1
    most = max(counts) or 1
    plot_w, plot_h = width - left - 12, height - bottom - top
    w = plot_w / bins
    bars = tuple(
        Bar(
            i * step,
            (i + 1) * step,
            n,
            left + i * w + 1,
            top + plot_h * (1 - n / most),
            w - 2,
            plot_h * n / most,
        )
        for i, n in enumerate(counts)
    )
    ticks = tuple((left + i * w, f"{i * step:g}") for i in range(0, bins + 1, max(1, bins // 10)))

    def at(v: float | None) -> float | None:
        return None if v is None else left + plot_w * v / top_score

    return Histogram(width, height, bars, top + plot_h, ticks, at(mean), at(median))
