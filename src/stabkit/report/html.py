"""Self-contained HTML reports.

A report is a list of :class:`ReportSection` values (title, text, facts, figures);
:func:`write_html_report` writes them as one ``index.html`` whose figures are embedded
as base64 PNG (the page works when copied anywhere on its own) and linked to their
files beside it. Every piece of text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from stabkit.errors import InputError

__all__ = ["ReportFigure", "ReportSection", "write_html_report"]


@dataclasses.dataclass(frozen=True)
class ReportFigure:
    """A figure file of a report.

    Attributes
    ----------
    path
        The image (PNG, JPEG, GIF or SVG); relative paths are relative to the report folder.
    caption
        What the figure shows, in a sentence or two.
    """

    path: Path
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class ReportSection:
    """One part of a report: what was run, how it went, and its figures.

    Attributes
    ----------
    title
        Heading.
    summary
        What was run, in one line (shown in the report's overview table).
    text
        Explanation; blank lines separate paragraphs.
    facts
        ``(label, value)`` rows shown as a small table.
    figures
        :class:`ReportFigure` values, in order.
    status
        ``"ok"``, ``"partial"`` (some members failed) or ``"error"`` (the section failed;
        ``text`` then holds the error).
    wall_time, compile_time
        Seconds spent running and compiling, when measured.
    """

    title: str
    summary: str = ""
    text: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    status: str = "ok"
    wall_time: float | None = None
    compile_time: float | None = None


_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       color: #1a202c; background: #f7f8fa; line-height: 1.5; }
main { max-width: 1000px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
header { border-bottom: 2px solid #0072B2; margin-bottom: 1.5rem; }
h1 { margin: 0.5rem 0 0.2rem; font-size: 1.8rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #d2d6dc; padding-bottom: 0.2rem; }
.subtitle { color: #4a5568; margin: 0 0 0.8rem; }
table { border-collapse: collapse; margin: 0.8rem 0; background: white; }
th, td { border: 1px solid #d2d6dc; padding: 0.3rem 0.7rem; text-align: left;
         vertical-align: top; font-size: 0.92rem; }
th { background: #edf2f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; border-radius: 3px; padding: 0 0.4rem; }
.status-ok { color: #22543d; background: #c6f6d5; }
.status-partial { color: #744210; background: #fefcbf; }
.status-error { color: #742a2a; background: #fed7d7; }
figure { margin: 1.2rem 0; background: white; padding: 0.6rem; border: 1px solid #e2e8f0; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: #4a5568; font-size: 0.9rem; margin-top: 0.4rem; }
pre.error { background: #fff5f5; border: 1px solid #feb2b2; padding: 0.6rem;
            white-space: pre-wrap; }
footer { margin-top: 3rem; color: #718096; font-size: 0.85rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _seconds(value: float | None) -> str:
    if value is None:
        return "&ndash;"
    if value >= 0.1:
        return _e(f"{value:.2f} s")
    return _e(f"{value * 1e3:.2g} ms")


def _status(status: str) -> str:
    cls = status if status in {"ok", "partial", "error"} else "partial"
    return f'<span class="status status-{cls}">{_e(status)}</span>'


def _anchor(index: int) -> str:
    return f"section-{index + 1}"


def _paragraphs(text: str, *, error: bool) -> str:
    if not text.strip():
        return ""
    if error:
        return f'<pre class="error">{_e(text.strip())}</pre>'
    blocks = [b.strip() for b in text.strip().split("\n\n") if b.strip()]
    return "".join(f"<p>{_e(' '.join(b.split()))}</p>" for b in blocks)


def _figure(folder: Path, fig: ReportFigure, *, embed: bool) -> str:
    path = fig.path if fig.path.is_absolute() else folder / fig.path
    suffix = path.suffix.lower()
    if suffix not in _MIME:
        raise InputError(
            f"ReportFigure(path={str(fig.path)!r}): unsupported image type {suffix!r}; "
            f"use one of {', '.join(_MIME)}"
        )
    if not path.is_file():
        raise InputError(f"ReportFigure(path={str(fig.path)!r}): no such file")
    try:
        link = Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:  # another drive on Windows
        link = path.as_uri()
    if embed:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        src = f"data:{_MIME[suffix]};base64,{data}"
    else:
        src = link
    alt = fig.caption or path.name
    caption = _e(fig.caption)
    caption += f' <a href="{_e(link)}">{_e(path.name)}</a>'
    return (
        f'<figure><img src="{_e(src)}" alt="{_e(alt)}"><figcaption>{caption}</figcaption></figure>'
    )


def _facts_table(rows: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return ""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _overview(sections: Sequence[ReportSection]) -> str:
    head = (
        "<tr><th>section</th><th>what was run</th><th>status</th>"
        "<th>compile time</th><th>run time</th></tr>"
    )
    rows = []
    for i, s in enumerate(sections):
        rows.append(
            f'<tr><td><a href="#{_anchor(i)}">{_e(s.title)}</a></td><td>{_e(s.summary)}</td>'
            f"<td>{_status(s.status)}</td><td class='num'>{_seconds(s.compile_time)}</td>"
            f"<td class='num'>{_seconds(s.wall_time)}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _environment() -> list[tuple[str, str]]:
    from stabkit import __version__

    rows = [("stabkit", __version__), ("python", platform.python_version())]
    for name in ("numpy", "scipy", "sympy", "numba", "matplotlib"):
        try:
            module = __import__(name)
            rows.append((name, str(getattr(module, "__version__", "?"))))
        except ImportError:  # pragma: no cover - depends on the environment
            continue
    rows.append(("platform", platform.platform(terse=True)))
    rows.append(("created", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")))
    return rows


def write_html_report(
    folder: str | os.PathLike[str],
    sections: Sequence[ReportSection],
    *,
    title: str = "stabkit report",
    subtitle: str = "",
    facts: Sequence[tuple[str, str]] = (),
    embed_figures: bool = True,
    filename: str = "index.html",
) -> Path:
    """Write ``sections`` as one HTML page in ``folder``; return the page's path.

    Parameters
    ----------
    folder
        Report folder (created if missing); figure paths are relative to it.
    sections
        :class:`ReportSection` values, in order. The page starts with an overview
        table (what was run, status, compile and run times) linking to each section.
    title, subtitle
        Page heading.
    facts
        Extra ``(label, value)`` rows for the page's header (e.g. total time); the
        stabkit, python and library versions are always listed.
    embed_figures
        Embed images as base64 (a self-contained page) rather than link them.
    filename
        Name of the page.

    Raises
    ------
    InputError
        A section that is not a :class:`ReportSection`, or a figure file that is
        missing or not an image.
    """
    target_dir = Path(folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(sections):
        if not isinstance(s, ReportSection):
            raise InputError(f"sections[{i}]: expected a ReportSection, got {type(s).__name__}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<header><h1>{_e(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="subtitle">{_e(subtitle)}</p>')
    parts.append("</header>")
    if sections:
        parts.append("<h2>Overview</h2>")
        parts.append(_overview(sections))
    parts.append(_facts_table([*facts, *_environment()]))
    for i, s in enumerate(sections):
        parts.append(f'<section id="{_anchor(i)}"><h2>{_e(s.title)} {_status(s.status)}</h2>')
        if s.summary:
            parts.append(f"<p><em>{_e(s.summary)}</em></p>")
        parts.append(_paragraphs(s.text, error=s.status == "error"))
        parts.append(_facts_table(s.facts))
        parts.extend(_figure(target_dir, f, embed=embed_figures) for f in s.figures)
        parts.append("</section>")
    parts.append(
        "<footer>Written by stabkit. Figures are embedded in this page; the image files "
        "beside it hold the same pictures.</footer>"
        if embed_figures
        else "<footer>Written by stabkit.</footer>"
    )
    parts.append("</main></body></html>")
    page = target_dir / filename
    tmp = page.with_name(f".{page.name}.tmp-{os.getpid()}")
    tmp.write_text("\n".join(p for p in parts if p), encoding="utf-8")
    os.replace(tmp, page)
    return page
