# Leave files where a kernel forked next from the same parent might look, and change what it imports.
import json
import mimetypes
import os
import sys
import types

answer = 4242
home = os.environ["HOME"]
targets = ["/tmp/planted.txt", "/tmp/sitecustomize.py", "/dev/shm/planted.txt", "/planted.txt", "/dev/planted.txt",
           os.path.join(home, ".ipython", "profile_default", "startup", "00-planted.py"),
           os.path.join(os.path.dirname(home), "..", "planted.txt"),      # where the kernels' folders are made
           os.path.join(os.path.dirname(os.getcwd()), "planted.txt"),     # beside this rep's working folder
           os.path.join(os.path.dirname(os.path.dirname(os.getcwd())), "fork-d-reader", "hw", "planted.txt"),
           os.path.join(os.path.dirname(json.__file__), "sitecustomize.py")]
for path in targets:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write("import builtins\nbuiltins.PLANTED = True\n")
    except OSError:
        pass
# mimetypes is one of the modules the parent imported for its kernels. (Not json: the kernel's own
# messages go through it, so changing it would only break this kernel.)
mimetypes.guess_type = lambda *args, **kwargs: ("pwned", None)
sys.modules["math"] = types.ModuleType("math")
print("planted")
