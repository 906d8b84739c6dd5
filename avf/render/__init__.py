"""Rendering shared by the static build and the service (editor preview): Markdown → HTML."""
