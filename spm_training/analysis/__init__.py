"""The analysis: mastery, attainment, gaps, evidence, readiness, onboarding and item statistics, read
from the store and computed once per scope by :func:`analyse`.

This layer imports only the package's root; its reads of the store are in :mod:`.queries`, and what
the reports show is read from an :class:`~.facade.Analysis` by :mod:`.views`.
"""
