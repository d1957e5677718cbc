"""A small checkout with a built book, for the spm service on the hub to serve at /services/spm/book/.

The real book takes minutes to build; the service only needs a project root (``_config.yml``) whose
``_build/html`` holds pages made by the book's own Sphinx extension. One page with a knowledge check,
built with Sphinx and ``spm_training.sphinxext`` as the book is, takes a few seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

#: the page with the knowledge check, as the store records it (its path in the book, no suffix)
PAGE = "book/sdr/prospecting"
#: its one question: the second option is the right one
QUESTION = """\
- question: A prospect says "send me some information". What do you do next?
  options:
    - text: Send the brochure and wait for them to call back.
      why: The request is often a polite way to end the call.
    - text: Ask what would be most useful to them, and why now.
      correct: true
      why: A question keeps the conversation going and tells you what matters.
"""

CONF = """\
project = "spm hub test book"
extensions = ["myst_parser", "spm_training.sphinxext"]
myst_enable_extensions = ["colon_fence"]
mathjax_path = "spm/vendor/mathjax/tex-chtml.js"
spm_course_dir = "course"
"""


def build_checkout(root: Path) -> Path:
    """``root/checkout``: a ``_config.yml`` and the built site in ``_build/html``, readable by everyone."""
    checkout = root / "checkout"
    source = root / "book-source"
    (source / "book" / "sdr").mkdir(parents=True)
    (source / "conf.py").write_text(CONF, encoding="utf-8")
    (source / "index.md").write_text("# Test book\n\n```{toctree}\nbook/sdr/prospecting\n```\n", encoding="utf-8")
    (source / f"{PAGE}.md").write_text(f"# Prospecting\n\nSome text.\n\n```{{knowledge-check}}\n{QUESTION}```\n",
                                       encoding="utf-8")
    html = checkout / "_build" / "html"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", str(source), str(html)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not (html / f"{PAGE}.html").is_file():
        raise RuntimeError(f"the test book did not build:\n{done.stdout}{done.stderr}")
    (checkout / "_config.yml").write_text("title: spm hub test book\n", encoding="utf-8")
    shutil.rmtree(source)
    for path in [checkout, *checkout.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return checkout
