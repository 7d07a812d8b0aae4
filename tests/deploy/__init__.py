"""Tests of deploy/: the replica launcher, its HAProxy config, the container files."""
