"""Serving a class: deploy/serve.py (replicas behind HAProxy), Dockerfile, compose."""
