"""Grading: nbgrader's autograde in parallel worker processes, student code in a bubblewrap sandbox,
tampering checks on locked and test cells, and the feedback preprocessor that hides hidden tests.

This layer imports only the package's root.
"""
