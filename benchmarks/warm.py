"""Time a one-post rebuild in a warm process, as `avf watch` and the service's build
worker do it: Pelican already imported, templates compiled, one city planned and built.

Run as `python -m benchmarks.warm CONTENT OUTPUT SLUG [--runs N] [--bare]`; prints the
median and the fastest time in seconds as JSON. The output must already hold a build of
CONTENT (made with `--no-search --no-precompress` when `--bare` is given: the rebuild is
then made without them too, like for like with Hugo).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

from avf.build import BuildOptions, build_network

ADDED = "\nUne phrase de plus, ajoutée par le banc d'essai ({n}).\n"


def rebuild_times(content: Path, output: Path, slug: str, runs: int,
                  bare: bool = False) -> list[float]:
    """Seconds of each one-post rebuild of `slug`, after a first warm-up rebuild; `bare`:
    without the search index and precompressed siblings."""
    options = BuildOptions(content_dir=content, output_dir=output, jobs=2, cities=(slug,),
                           search=not bare, precompress=not bare)
    posts = sorted((content / slug / "posts").glob("*.md"))
    post = posts[len(posts) // 2]
    times = []
    for n in range(runs + 1):
        with post.open("a", encoding="utf-8") as stream:
            stream.write(ADDED.format(n=n))
        started = time.perf_counter()
        build = build_network(replace(options))
        elapsed = time.perf_counter() - started
        if [result.slug for result in build.results] != [slug] or not build.ok:
            raise RuntimeError(f"the warm rebuild did not rebuild {slug} alone: {build}")
        if n:  # the first run warms the process up (imports, compiled templates)
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("content", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("slug")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bare", action="store_true",
                        help="without search index nor precompression (like for like)")
    args = parser.parse_args()
    times = rebuild_times(args.content, args.output, args.slug, args.runs, args.bare)
    print(json.dumps({"median": statistics.median(times), "best": min(times)}))


if __name__ == "__main__":
    main()
