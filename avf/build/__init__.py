"""Build the whole network: plan → build cities → portal → publish → report."""

from avf.build.network import build_network
from avf.build.options import BuildOptions

__all__ = ["BuildOptions", "build_network"]
