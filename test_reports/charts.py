"""The trend across releases as the numbers an inline SVG needs (drawn by the template, with no
script and no external asset): one line per kind of pass rate (0 to 100 %) over the releases, oldest
left."""

from __future__ import annotations

from typing import Any

from test_reports.models import Kind, Release

WIDTH = 640
HEIGHT = 220
LEFT = 44
RIGHT = 16
TOP = 12
BOTTOM = 40
# Colours told apart by people with the common colour-vision deficiencies (Okabe and Ito), each line
# also with its own dash pattern and marker, and named in the legend.
STYLE = {
    Kind.UNIT: {"colour": "#0072B2", "dash": "", "marker": "circle"},
    Kind.INTEGRATION: {"colour": "#D55E00", "dash": "6 3", "marker": "square"},
    Kind.REGRESSION: {"colour": "#009E73", "dash": "2 3", "marker": "diamond"},
}


def _y(rate: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - rate / 100), 1)


def trend_chart(points: list[tuple[Release, dict[str, float | None]]]) -> dict[str, Any] | None:
    """None when there is no release with a report to draw."""
    if not any(rate is not None for _, rates in points for rate in rates.values()):
        return None
    span = WIDTH - LEFT - RIGHT
    step = span / max(len(points) - 1, 1)
    xs = [round(LEFT + (i * step if len(points) > 1 else span / 2), 1) for i in range(len(points))]
    series = []
    for value, label in Kind.choices:
        marks = [
            {
                "x": x,
                "y": _y(rate),
                "x0": round(x - 4, 1),  # the square and diamond markers' corner
                "y0": round(_y(rate) - 4, 1),
                "rate": rate,
                "version": release.version,
            }
            for x, (release, rates) in zip(xs, points, strict=True)
            if (rate := rates[value]) is not None
        ]
        if marks:
            series.append(
                {
                    "kind": value,
                    "label": label,
                    **STYLE[Kind(value)],
                    "points": " ".join(f"{mark['x']},{mark['y']}" for mark in marks),
                    "marks": marks,
                }
            )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "grid": [{"rate": rate, "y": _y(rate)} for rate in (0, 25, 50, 75, 100)],
        "labels": [
            {"x": x, "y": HEIGHT - BOTTOM + 16, "version": release.version}
            for x, (release, _) in zip(xs, points, strict=True)
        ],
        "series": series,
    }
