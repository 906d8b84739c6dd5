"""Helpers the avf theme's templates use, shared by the static build and the service."""
