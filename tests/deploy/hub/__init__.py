"""Helpers that run a real JupyterHub on this machine for tests/deploy/test_hub.py and benchmarks/hub_load.py:
local accounts, a throwaway PostgreSQL cluster, the hub with its proxy, and clients that act as a
trainer or a rep would through the hub's API."""
