# Allocate memory without end.
def double(x):
    return 2 * x


hoard = []
while True:
    hoard.append(bytearray(64 * 1024 * 1024))
