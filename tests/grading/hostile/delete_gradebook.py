# Delete the gradebook, then overwrite it, then drop its tables: wherever it might be.
import os
import sqlite3

answer = 4242
targets = ["__COURSE__/gradebook.db", "../../../gradebook.db", "../../gradebook.db"]
for path in targets:
    for attack in ("remove", "overwrite", "drop"):
        try:
            if attack == "remove":
                os.remove(path)
            elif attack == "overwrite":
                with open(path, "wb") as fh:
                    fh.write(b"not a database any more")
            else:
                with sqlite3.connect(f"file:{path}?mode=rw", uri=True) as db:
                    db.execute("DROP TABLE grade")
            print("succeeded:", attack, path)
        except Exception as exc:
            print("blocked:", attack, path, type(exc).__name__)
