# Look for what the earlier submissions left: files, a poisoned import, a planted start-up file, processes.
import builtins
import glob
import math
import mimetypes
import os

home = os.environ["HOME"]
cwd = os.getcwd()
patterns = ["/tmp/**", "/dev/shm/**", "/planted.txt", "/dev/planted.txt", os.path.join(home, "**"),
            os.path.join(os.path.dirname(home), "..", "**"), os.path.join(os.path.dirname(os.path.dirname(cwd)), "**")]
found = sorted({p for pattern in patterns for p in glob.glob(pattern, recursive=True)})
leftovers = [p for p in found if "planted" in p or "daemon" in p or "fork-a-plant" in p or "fork-b-daemon" in p]
poisoned = [name for name, bad in (("mimetypes", mimetypes.guess_type("a.csv")[0] != "text/csv"),
                                   ("math", not hasattr(math, "pi")), ("start-up file", hasattr(builtins, "PLANTED")))
            if bad]
others = sorted(int(e) for e in os.listdir("/proc") if e.isdigit())
print(f"leftovers {leftovers}, poisoned {poisoned}, other processes {others}")
answer = 4242 if not (leftovers or poisoned or others) else 0
