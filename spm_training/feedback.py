"""Where deployed nbgrader configs find the feedback preprocessor.

Course configs name ``spm_training.feedback.HideHiddenTests`` by import string
(``GenerateFeedback.preprocessors``); the class lives in :mod:`spm_training.grading.feedback`. This
alias keeps that string working for configs written before the package had layers. It is the one
module at the root allowed to import from a layer above it (the layer test names it).
"""

from .grading.feedback import HideHiddenTests

__all__ = ["HideHiddenTests"]
