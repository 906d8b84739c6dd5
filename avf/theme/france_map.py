"""The portal's map of France: an SVG drawn at build time from the cities' coordinates.

No tile server and no third-party request: the outline of metropolitan France and Corsica
is a hand-made polygon of well-known places (capes, ports, border towns), accurate to a
few kilometres — enough to place a city at a glance, not a cartographic reference. It is
projected with an equirectangular projection scaled by cos(46.5°), France's middle
latitude, which keeps the hexagon's proportions. Overseas cities fall outside the frame
and are listed under the map instead (`overseas`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape

# Approximate outline, clockwise from Dunkirk, as (longitude, latitude) in degrees.
MAINLAND = (
    (2.37, 51.05), (2.55, 51.09), (3.09, 50.78), (3.68, 50.40), (4.22, 50.25), (4.85, 50.15),
    (4.97, 49.80), (5.47, 49.50), (6.36, 49.46), (6.73, 49.16), (7.44, 49.17), (8.23, 48.97),
    (7.80, 48.58), (7.58, 48.10), (7.59, 47.59), (7.00, 47.45), (6.45, 47.00), (6.10, 46.60),
    (6.15, 46.15), (6.80, 46.40), (6.87, 45.83), (7.13, 45.25), (6.63, 45.10), (6.85, 44.50),
    (7.67, 44.15), (7.50, 43.79), (7.26, 43.70), (6.95, 43.55), (6.65, 43.20), (6.13, 43.04),
    (5.93, 43.10), (5.37, 43.30), (4.85, 43.35), (4.20, 43.45), (3.70, 43.40), (3.20, 43.25),
    (3.04, 42.90), (3.17, 42.43), (2.50, 42.35), (1.72, 42.50), (0.70, 42.85), (-0.30, 42.80),
    (-0.75, 42.95), (-1.45, 43.05), (-1.78, 43.37), (-1.50, 43.50), (-1.25, 44.30),
    (-1.25, 44.60), (-1.03, 45.62), (-1.15, 46.15), (-1.78, 46.50), (-2.25, 47.00),
    (-2.20, 47.27), (-3.12, 47.50), (-3.36, 47.74), (-4.37, 47.80), (-4.70, 48.03),
    (-4.55, 48.25), (-4.77, 48.33), (-4.60, 48.60), (-3.98, 48.73), (-3.44, 48.83),
    (-2.75, 48.55), (-2.32, 48.68), (-2.00, 48.65), (-1.51, 48.64), (-1.60, 48.84),
    (-1.94, 49.72), (-1.62, 49.65), (-1.26, 49.67), (-1.20, 49.35), (-0.35, 49.30),
    (0.10, 49.50), (0.37, 49.76), (1.08, 49.93), (1.60, 50.20), (1.60, 50.72), (1.58, 50.87),
    (1.85, 50.96),
)
CORSICA = (
    (9.40, 43.01), (9.45, 42.70), (9.55, 42.10), (9.28, 41.59), (9.15, 41.39), (8.80, 41.55),
    (8.90, 41.67), (8.73, 41.92), (8.60, 42.10), (8.70, 42.27), (8.76, 42.57), (9.30, 42.68),
    (9.35, 42.95),
)
# The frame: metropolitan France and Corsica with a margin; a city outside is overseas.
WEST, EAST, SOUTH, NORTH = -5.5, 10.0, 41.0, 51.5
SCALE = 56.0  # SVG units per degree of latitude
ASPECT = math.cos(math.radians(46.5))  # a degree of longitude, relative to one of latitude
WIDTH = round((EAST - WEST) * ASPECT * SCALE)
HEIGHT = round((NORTH - SOUTH) * SCALE)
DOT_RADIUS = 5


def project(lon: float, lat: float) -> tuple[float, float]:
    """SVG coordinates (x to the right, y down) of a point of metropolitan France."""
    return (round((lon - WEST) * ASPECT * SCALE, 1), round((NORTH - lat) * SCALE, 1))


def in_metropole(city: Mapping[str, object]) -> bool:
    lat, lon = city.get("lat"), city.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return False
    return WEST <= lon <= EAST and SOUTH <= lat <= NORTH


def overseas(cities: Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """The cities the map cannot show (overseas, or without coordinates), by name."""
    return sorted((city for city in cities if not in_metropole(city)),
                  key=lambda city: str(city.get("name", "")))


def _path(outline: tuple[tuple[float, float], ...]) -> str:
    points = [project(lon, lat) for lon, lat in outline]
    return "M" + " L".join(f"{x:g},{y:g}" for x, y in points) + " Z"


def france_map(cities: Iterable[Mapping[str, object]]) -> str:
    """The SVG markup of the map: France's outline and one linked dot per city.

    A named `role="group"` (a title and a description): assistive technologies announce one
    map, and the directory list beside it is the accessible equivalent; the dots are links
    for pointer users only, out of the keyboard order and hidden from assistive technologies
    (the list has the same links). Not `role="img"`: a picture may hold no links (axe's
    nested-interactive rule).
    """
    shown = [city for city in cities if in_metropole(city)]
    dots = []
    for city in sorted(shown, key=lambda city: str(city.get("name", ""))):
        x, y = project(float(city["lon"]), float(city["lat"]))  # type: ignore[arg-type]
        name = escape(str(city.get("name", "")))
        dots.append(
            f'<a href="{escape(str(city.get("url", "")))}" tabindex="-1" aria-hidden="true">'
            f'<circle class="carte-ville" cx="{x:g}" cy="{y:g}" r="{DOT_RADIUS}" '
            f'fill="#c0392b" stroke="#ffffff" stroke-width="1.5"><title>{name}</title>'
            "</circle></a>")
    return (
        '<svg class="carte-france" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="group" '
        'aria-labelledby="carte-titre carte-description">'
        '<title id="carte-titre">Carte des AVF en France métropolitaine</title>'
        f'<desc id="carte-description">{len(shown)} associations placées sur la carte ; '
        "la liste par région ci-dessous donne les mêmes liens.</desc>"
        f'<path d="{_path(MAINLAND)}" fill="#eef2f7" stroke="#5b6b7f" stroke-width="1.5" '
        'stroke-linejoin="round"/>'
        f'<path d="{_path(CORSICA)}" fill="#eef2f7" stroke="#5b6b7f" stroke-width="1.5" '
        'stroke-linejoin="round"/>'
        + "".join(dots) + "</svg>")
