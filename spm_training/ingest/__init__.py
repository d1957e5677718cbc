"""What comes into the store: the roster, KPI files, CRM exports and nbgrader's gradebook (``spm sync``).

Every importer validates its whole input first and writes in one transaction. This layer imports only
the package's root (errors, store, catalogs, periods, file helpers).
"""
