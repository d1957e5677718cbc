# A wrong answer, and tracebacks switched off so that failing tests print nothing (the trick nbgrader
# closed in 2020: a test cell without an error output used to count as passed).
import sys

import IPython.core.interactiveshell

answer = 0
IPython.core.interactiveshell.InteractiveShell.showtraceback = lambda *args, **kwargs: None
sys.excepthook = lambda *args: None
