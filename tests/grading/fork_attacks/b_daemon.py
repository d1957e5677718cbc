# Leave a daemon behind: detached from the kernel, in a session of its own, writing where others look.
import os
import time

answer = 4242
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            for path in ("/tmp/daemon.txt", "/dev/shm/daemon.txt"):
                try:
                    with open(path, "a") as fh:
                        fh.write(f"{time.time()}\n")
                except OSError:
                    pass
            time.sleep(0.05)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.3)
print("daemon started")
